// Per-route stage settings of the HTTP API. SST v2 only sets the stage default, so they are written on
// CloudFormation's AWS::ApiGatewayV2::Stage directly: raw JSON to CDK, keyed by route key and spelled
// as CloudFormation spells it.
import { CfnResource } from "aws-cdk-lib";
import type { CfnRoute, CfnStage } from "aws-cdk-lib/aws-apigatewayv2";
import type { Api } from "sst/constructs";

export interface RouteSetting {
  ThrottlingRateLimit?: number;
  ThrottlingBurstLimit?: number;
}

/**
 * Sets the default stage's RouteSettings and makes the stage depend on every route they name. A route
 * key is a name, not a reference, so CloudFormation would otherwise create the stage before the routes
 * on a first deploy, and API Gateway refuses it ("Unable to find Route by key … within the provided
 * RouteSettings"; aws/serverless-application-model#2479, sst/sst#4501).
 */
export function setRouteSettings(api: Api, settings: Record<string, RouteSetting>): void {
  const stage = api.cdk.httpApi.defaultStage!.node.defaultChild as CfnStage;
  const routes = new Map(
    api.node
      .findAll()
      .filter((c): c is CfnRoute & CfnResource => CfnResource.isCfnResource(c) && c.cfnResourceType === "AWS::ApiGatewayV2::Route")
      .map((r) => [r.routeKey, r]),
  );
  for (const key of Object.keys(settings)) {
    const route = routes.get(key);
    // Caught here rather than by API Gateway halfway through a deploy.
    if (!route) throw new Error(`RouteSettings names "${key}", which is not a route of the API`);
    stage.addDependency(route);
  }
  stage.routeSettings = settings;
}

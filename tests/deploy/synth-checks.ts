// Reading a synthesized app (synth.ts): its resources, our functions among them, what each binds.
import type { Template } from "aws-cdk-lib/assertions";
import type { RouteDef } from "../../packages/functions/src/route-types";
import { routeOf } from "../../packages/functions/src/route-table";
import type { TemplateJson } from "./named-by-key";
import { synthesize } from "./synth";

export type Resource = { Type: string; Properties: Record<string, any> };

export interface Synthesis {
  /** Each stack's template. */
  templates: TemplateJson[];
  /** The region the app was synthesized for (sst.config.ts). */
  region: string;
  resources: Record<string, Resource>;
  outputs: Record<string, unknown>;
  json: string;
  root: string;
  /** In deploy mode, where SST built the functions (synth.ts); the caller removes it. */
  artifacts?: string;
  ofType(type: string): Resource[];
  /** Our functions (SST adds custom-resource handlers of its own), by logical id. */
  appFunctions(): [string, Resource][];
  /**
   * The one function of a route, found by its description ("METHOD path", set in route-functions.ts; `sst dev`
   * appends " (live)"): for a route served on another's Function URL (`servedBy`), that route's function.
   */
  functionOf(route: Pick<RouteDef, "method" | "path" | "servedBy">): [string, Resource];
  envOf(fn: Resource): Record<string, string>;
  boundSecrets(fn: Resource): string[];
  /** RetentionInDays of the function's log group (SST's LogRetention custom resource). */
  retentionOf(functionId: string): number | undefined;
  /** The HTTP API stage's access-log group, which its AccessLogSettings point at. */
  accessLogGroup(): Resource | undefined;
}

export async function loadSynthesis(mode: "deploy" | "dev" | "remove"): Promise<Synthesis> {
  const synthesized = await synthesize("test", mode);
  const templates = [...synthesized.templates.values()].map((t: Template) => t.toJSON());
  const resources: Record<string, Resource> = Object.assign({}, ...templates.map((t) => t.Resources));
  const envOf = (fn: Resource): Record<string, string> => fn.Properties.Environment?.Variables ?? {};
  const appFunctions = () =>
    Object.entries(resources).filter(([, r]) => r.Type === "AWS::Lambda::Function" && /^(GET|POST|PATCH|DELETE) \//.test(String(r.Properties.Description)));
  return {
    templates,
    region: synthesized.region,
    resources,
    outputs: Object.assign({}, ...templates.map((t) => t.Outputs ?? {})),
    json: JSON.stringify(templates),
    root: synthesized.root,
    artifacts: synthesized.artifacts,
    ofType: (type) => Object.values(resources).filter((r) => r.Type === type),
    appFunctions,
    functionOf(served) {
      const route = served.servedBy ? routeOf(served.servedBy) : served;
      const found = appFunctions().filter(([, r]) => String(r.Properties.Description).replace(/ \(live\)$/, "") === `${route.method} ${route.path}`);
      if (found.length !== 1) throw new Error(`${found.length} functions for ${route.method} ${route.path}`);
      return found[0]!;
    },
    envOf,
    boundSecrets: (fn) => Object.keys(envOf(fn)).filter((k) => k.startsWith("SST_Secret_value_")).map((k) => k.slice("SST_Secret_value_".length)),
    retentionOf(functionId) {
      const lr = Object.values(resources).find(
        (r) => r.Type === "Custom::LogRetention" && JSON.stringify(r.Properties.LogGroupName).includes(`"${functionId}"`),
      );
      return lr?.Properties.RetentionInDays;
    },
    accessLogGroup() {
      const stage = Object.values(resources).find((r) => r.Type === "AWS::ApiGatewayV2::Stage");
      const [id, attribute] = stage?.Properties.AccessLogSettings?.DestinationArn?.["Fn::GetAtt"] ?? [];
      return attribute === "Arn" ? resources[id] : undefined;
    },
  };
}

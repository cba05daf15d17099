// The checker of names by key (named-by-key.ts) on small hand-made templates: it flags what a first
// deploy would trip over, and passes what CloudFormation orders correctly.
import { describe, expect, it } from "vitest";
import { checkNamedByKey, type TemplateJson, type TemplateResource } from "./named-by-key";

const API = { Ref: "Api" };
const route = (key: string, api: unknown = API): TemplateResource => ({ Type: "AWS::ApiGatewayV2::Route", Properties: { ApiId: api, RouteKey: key } });
const stage = (keys: string[], dependsOn?: string | string[]): TemplateResource => ({
  Type: "AWS::ApiGatewayV2::Stage",
  Properties: { ApiId: API, StageName: "$default", RouteSettings: Object.fromEntries(keys.map((k) => [k, { ThrottlingRateLimit: 1 }])) },
  ...(dependsOn === undefined ? {} : { DependsOn: dependsOn }),
});
const template = (resources: Record<string, TemplateResource>): TemplateJson => ({ Resources: { Api: { Type: "AWS::ApiGatewayV2::Api", Properties: {} }, ...resources } });

describe("names by key without a DependsOn", () => {
  it("flags a stage whose RouteSettings name a route it does not depend on", () => {
    const t = template({ Login: route("POST /login"), Stage: stage(["POST /login"]) });
    expect(checkNamedByKey(t)).toEqual({ checked: 1, problems: ['Stage (AWS::ApiGatewayV2::Stage) names "POST /login" (Login) without a DependsOn on it'] });
  });

  it("passes a stage that depends on every route it names, in either DependsOn form", () => {
    expect(checkNamedByKey(template({ Login: route("POST /login"), Stage: stage(["POST /login"], "Login") }))).toEqual({ checked: 1, problems: [] });
    const two = template({ Login: route("POST /login"), Refresh: route("POST /refresh"), Stage: stage(["POST /login", "POST /refresh"], ["Refresh", "Login"]) });
    expect(checkNamedByKey(two)).toEqual({ checked: 2, problems: [] });
  });

  it("flags each route left out, and a key that names no route", () => {
    const t = template({ Login: route("POST /login"), Refresh: route("POST /refresh"), Stage: stage(["POST /login", "POST /refresh", "POST /gone"], ["Login"]) });
    expect(checkNamedByKey(t).problems).toEqual([
      'Stage (AWS::ApiGatewayV2::Stage) names "POST /refresh" (Refresh) without a DependsOn on it',
      'Stage (AWS::ApiGatewayV2::Stage) names "POST /gone", which no AWS::ApiGatewayV2::Route of the template has as RouteKey',
    ]);
  });

  it("matches only routes of the stage's own API", () => {
    const t = template({ Other: route("POST /login", { Ref: "OtherApi" }), Stage: stage(["POST /login"], "Other") });
    expect(checkNamedByKey(t).problems).toEqual([
      'Stage (AWS::ApiGatewayV2::Stage) names "POST /login", which no AWS::ApiGatewayV2::Route of the template has as RouteKey',
    ]);
  });

  it("flags an API mapping that names its stage by a literal name, and leaves a Ref to CloudFormation", () => {
    const mapping = (s: unknown, dependsOn?: string): TemplateResource => ({
      Type: "AWS::ApiGatewayV2::ApiMapping",
      Properties: { ApiId: API, DomainName: "api.example.com", Stage: s },
      ...(dependsOn ? { DependsOn: dependsOn } : {}),
    });
    const stageRes = stage([]);
    expect(checkNamedByKey(template({ Stage: stageRes, Mapping: mapping("$default") })).problems).toEqual([
      'Mapping (AWS::ApiGatewayV2::ApiMapping) names "$default" (Stage) without a DependsOn on it',
    ]);
    expect(checkNamedByKey(template({ Stage: stageRes, Mapping: mapping("$default", "Stage") })).problems).toEqual([]);
    expect(checkNamedByKey(template({ Stage: stageRes, Mapping: mapping({ Ref: "Stage" }) }))).toEqual({ checked: 0, problems: [] });
  });
});

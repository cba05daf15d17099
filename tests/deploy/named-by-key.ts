// Resources that name another resource by a key instead of referring to it (Ref, Fn::GetAtt): the
// dependency is invisible to CloudFormation, which may then create the naming resource first. On a
// first deploy the service refuses it and the stack rolls back (a Stage's RouteSettings before its
// routes: aws/serverless-application-model#2479, sst/sst#4501). Each such resource needs a DependsOn on
// what it names. A new case is one line of NAMED_BY_KEY.

export type TemplateResource = { Type: string; Properties?: Record<string, any>; DependsOn?: string | string[] };
export type TemplateJson = { Resources?: Record<string, TemplateResource> };

export interface NamedByKey {
  /** The resource type that names others. */
  type: string;
  /** The keys it names, read from its Properties (a value that is not a plain string is a reference, which CloudFormation sees). */
  names: (properties: Record<string, any>) => unknown[];
  /** The type of the resources named, and the property that holds the key. */
  target: string;
  key: string;
  /** A property both must share for a match (the same API), compared as JSON. */
  within?: string;
}

export const NAMED_BY_KEY: NamedByKey[] = [
  // "METHOD /path" → the route with that RouteKey.
  { type: "AWS::ApiGatewayV2::Stage", names: (p) => Object.keys(p.RouteSettings ?? {}), target: "AWS::ApiGatewayV2::Route", key: "RouteKey", within: "ApiId" },
  // A custom domain's mapping to a stage given by name ("$default").
  { type: "AWS::ApiGatewayV2::ApiMapping", names: (p) => [p.Stage], target: "AWS::ApiGatewayV2::Stage", key: "StageName", within: "ApiId" },
];

export interface ByKeyCheck {
  /** How many names by key were found (a check that found none proves nothing). */
  checked: number;
  /** One line per name without a DependsOn on the resource it names, or naming nothing in the template. */
  problems: string[];
}

const dependsOn = (r: TemplateResource) => (r.DependsOn === undefined ? [] : [r.DependsOn].flat());
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function checkNamedByKey(template: TemplateJson, rules: NamedByKey[] = NAMED_BY_KEY): ByKeyCheck {
  const resources = Object.entries(template.Resources ?? {});
  const result: ByKeyCheck = { checked: 0, problems: [] };
  for (const rule of rules) {
    for (const [id, resource] of resources.filter(([, r]) => r.Type === rule.type)) {
      const props = resource.Properties ?? {};
      for (const name of rule.names(props).filter((n): n is string => typeof n === "string")) {
        result.checked++;
        const targets = resources.filter(
          ([, r]) => r.Type === rule.target && r.Properties?.[rule.key] === name && (!rule.within || same(r.Properties?.[rule.within], props[rule.within])),
        );
        if (targets.length === 0) result.problems.push(`${id} (${rule.type}) names "${name}", which no ${rule.target} of the template has as ${rule.key}`);
        for (const [targetId] of targets)
          if (!dependsOn(resource).includes(targetId)) result.problems.push(`${id} (${rule.type}) names "${name}" (${targetId}) without a DependsOn on it`);
      }
    }
  }
  return result;
}

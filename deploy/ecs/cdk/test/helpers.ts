// Shared by the tests: synthesizes the stack exactly as bin/app.ts does (the
// same context parsing, cdk.json's feature flags, cdk-nag's AWS Solutions
// checks as an Aspect), env-agnostic, with no AWS account, region or network.
import * as fs from "fs";
import * as path from "path";

import * as cdk from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";

import { RtspTestServerStack, STACK_ID } from "../lib/rtsp-test-server-stack";
import { settingsFromContext } from "../lib/settings";

export const CDK_DIR = path.join(__dirname, "..");
export const SAMPLE_ECR_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/rtsp-test-server:1.2.3";

/** CloudFormation JSON: the tests look into it with plain property access. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface Synthesized {
  readonly stack: RtspTestServerStack;
  readonly template: Template;
  readonly json: Json;
  /** cdk-nag's and CDK's unsuppressed errors and warnings, as "path: message". */
  readonly errors: string[];
  readonly warnings: string[];
  /** Context keys the app would have looked up in an AWS account (must be none). */
  readonly missingContext: string[];
}

const cdkJson = JSON.parse(fs.readFileSync(path.join(CDK_DIR, "cdk.json"), "utf8"));

const cache = new Map<string, Synthesized>();

/** Synthesizes once per distinct context; tests share the result (read-only). */
export function synth(context: Record<string, string> = {}): Synthesized {
  const ctx = { image: SAMPLE_ECR_IMAGE, ...context };
  const key = JSON.stringify(Object.entries(ctx).sort());
  const hit = cache.get(key);
  if (hit) return hit;

  const app = new cdk.App({ context: { ...cdkJson.context, ...ctx } });
  const settings = settingsFromContext((k) => app.node.tryGetContext(k));
  const stack = new RtspTestServerStack(app, STACK_ID, settings);
  cdk.Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true, reports: false }));
  const assembly = app.synth();
  const template = Template.fromStack(stack); // the same (cached) synthesis
  // Annotations.fromStack would synthesize again; the artifact has the messages.
  const messages = assembly.getStackArtifact(stack.artifactId).messages;
  const show = (m: { id: string; entry: { data?: unknown } }) => `${m.id}: ${String(m.entry.data)}`;
  const result: Synthesized = {
    stack,
    template,
    json: template.toJSON(),
    errors: messages.filter((m) => m.level === "error").map(show),
    warnings: messages.filter((m) => m.level === "warning").map(show),
    missingContext: (assembly.manifest.missing ?? []).map((m) => m.key),
  };
  cache.set(key, result);
  return result;
}

/** The Properties of every resource of one type, with their logical ids. */
export function resources(json: Json, type: string): Array<[string, Json]> {
  return Object.entries(json.Resources as Record<string, Json>)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, r.Properties ?? {}]);
}

export function only(json: Json, type: string): [string, Json] {
  const found = resources(json, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
}

export function taskDefinitionFile(): Json {
  return JSON.parse(fs.readFileSync(path.join(CDK_DIR, "..", "task-definition.json"), "utf8"));
}

#!/usr/bin/env node
// The CDK app: one stack, rtsp-test-server on ECS Fargate behind an NLB.
//
//   npx cdk deploy -c image=<account>.dkr.ecr.<region>.amazonaws.com/rtsp-test-server:<tag> \
//       [-c profile=seed] [-c alarmTopicArn=arn:aws:sns:...] [-c vpcId=vpc-...]
//
// The context keys are listed in lib/settings.ts. -c image is required: without
// it synth stops with a message saying so.
//
// cdk-nag's AWS Solutions checks run on every synth: an unsuppressed error
// fails it, an unsuppressed warning fails `cdk synth --strict` (make deploy-check).
import * as cdk from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";

import { RtspTestServerStack, STACK_DESCRIPTION, STACK_ID } from "../lib/rtsp-test-server-stack";
import { ContextError, settingsFromContext } from "../lib/settings";

const app = new cdk.App();
let settings;
try {
  settings = settingsFromContext((key) => app.node.tryGetContext(key));
} catch (e) {
  if (e instanceof ContextError) {
    console.error(`rtsp-test-server CDK app: ${e.message}`);
    process.exit(1);
  }
  throw e;
}

new RtspTestServerStack(app, STACK_ID, {
  // Env-agnostic unless the CLI's account/region are set, so that `cdk synth`
  // runs without AWS credentials. Importing an existing VPC needs them.
  env:
    process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
      ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
      : undefined,
  description: STACK_DESCRIPTION,
  ...settings,
});
cdk.Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));

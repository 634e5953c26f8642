#!/usr/bin/env node
// The CDK app: one stack, rtsp-test-server on ECS Fargate behind an NLB.
//
//   npx cdk synth                                  # env-agnostic template
//   npx cdk deploy -c image=<registry>/rtsp-test-server:<tag> [-c vpcId=vpc-...]
//
// Context (-c key=value): image (required to deploy; a placeholder otherwise),
// vpcId (an existing VPC; default: a new 2-AZ VPC), desiredCount (default 1),
// internetFacing (default false), allowedCidr (who may reach the NLB; default
// the VPC's CIDR).
import * as cdk from "aws-cdk-lib";
import { RtspTestServerStack } from "../lib/rtsp-test-server-stack";

const app = new cdk.App();
const context = (key: string): string | undefined => {
  const value = app.node.tryGetContext(key);
  return value === undefined || value === null || value === "" ? undefined : String(value);
};

new RtspTestServerStack(app, "RtspTestServer", {
  // Env-agnostic unless the CLI's account/region are set, so that `cdk synth`
  // runs without AWS credentials. Importing an existing VPC needs them.
  env:
    process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
      ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
      : undefined,
  image: context("image") ?? "public.ecr.aws/example/rtsp-test-server:latest",
  vpcId: context("vpcId"),
  desiredCount: Number(context("desiredCount") ?? "1"),
  internetFacing: context("internetFacing") === "true",
  allowedCidr: context("allowedCidr"),
  description: "rtsp-test-server: simulated RTSP cameras on ECS Fargate (NLB, exact gRPC/HTTP health)",
});

// The CDK app's inputs: the `-c key=value` context turned into stack props,
// with every check that can fail before anything is synthesized. bin/app.ts
// and the tests (test/) build the stack through propsFromContext, so the tests
// cover the same parsing a deploy uses.
//
// Context keys:
//   image           required. <account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>
//                   (or @sha256:<digest>) is pulled from that ECR repository, and
//                   the task's execution role is granted the pull; any other
//                   reference (public.ecr.aws/..., docker.io/...) is pulled as is.
//   profile         "default" (the project's measured checks, 5 s / 2 s / 3 / 10 s,
//                   minHealthyPercent 100) or "seed" (the seed's 30 s / 10 s / 5 /
//                   90 s, minHealthyPercent 0). docs/operations.md has the table.
//   clusterName     default rtsp-cluster
//   serviceName     default rtsp-test-server
//   logGroupName    default /ecs/rtsp-test-server (deploy/ecs/task-definition.json)
//   alarmTopicArn   an SNS topic ARN; the alarms notify it (ALARM and OK)
//   vpcId           an existing VPC (needs the CLI's account and region); default a new VPC
//   desiredCount    default 1
//   internetFacing  "true" for an internet-facing NLB; default internal
//   allowedCidr     who may reach the NLB; default the VPC's CIDR

/** The container health check, in seconds (retries: a count). */
export interface ContainerCheckTimings {
  readonly interval: number;
  readonly timeout: number;
  readonly retries: number;
  readonly startPeriod: number;
}

/** What a profile changes: the container check's timings, the deployment floor, the grace period. */
export interface Profile {
  readonly name: string;
  /** undefined: deploy/ecs/task-definition.json's healthCheck (the project's defaults). */
  readonly healthCheck?: ContainerCheckTimings;
  readonly minHealthyPercent: number;
  /** Seconds ECS ignores the NLB's and the container's health checks after a task starts. */
  readonly healthCheckGracePeriodSeconds: number;
}

export const PROFILES: Readonly<Record<string, Profile>> = {
  // The project's settings, measured (docs/operations.md, "Health-check settings").
  // 60 s of grace: NLB registration plus two healthy checks at 10 s.
  default: { name: "default", minHealthyPercent: 100, healthCheckGracePeriodSeconds: 60 },
  // The seed document's settings (a Python port check and a guessed 30-45 s
  // GStreamer start): slower to declare a task unhealthy, and a deployment may
  // stop the only task before its replacement is healthy. The seed set no
  // grace period; 120 s (its 90 s start period + two NLB checks at 10 s, with
  // margin) keeps the NLB's checks from ending, at 60 s, a start the 90 s
  // start period means to allow.
  seed: {
    name: "seed",
    healthCheck: { interval: 30, timeout: 10, retries: 5, startPeriod: 90 },
    minHealthyPercent: 0,
    healthCheckGracePeriodSeconds: 120,
  },
};

export const DEFAULT_CLUSTER_NAME = "rtsp-cluster";
export const DEFAULT_SERVICE_NAME = "rtsp-test-server";

/** A container image: from an ECR repository (pull permissions granted) or any registry. */
export type ImageRef =
  | {
      readonly kind: "ecr";
      readonly account: string;
      readonly region: string;
      readonly partition: string;
      readonly repositoryName: string;
      /** A tag, or a digest "sha256:<hex>". */
      readonly tagOrDigest: string;
      readonly uri: string;
    }
  | { readonly kind: "registry"; readonly uri: string };

/** A context value the app cannot use; bin/app.ts prints its message and exits 1. */
export class ContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ContextError";
  }
}

const ECR_URI =
  /^(\d{12})\.dkr\.ecr\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(\.cn)?\/([a-z0-9](?:[a-z0-9._\/-]*[a-z0-9])?)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})|@(sha256:[a-f0-9]{64}))?$/;

/** Parses -c image=...; an ECR URI without a tag means :latest, as docker pull does. */
export function parseImage(image: string | undefined): ImageRef {
  if (image === undefined || image.trim() === "") {
    throw new ContextError(
      "no image: pass the image to deploy with -c image=<account>.dkr.ecr.<region>.amazonaws.com/rtsp-test-server:<tag> " +
        "(build and push it first: docs/operations.md, \"Deploying\"); any other registry's reference works too, " +
        "e.g. -c image=registry.example.com/rtsp-test-server:<tag>",
    );
  }
  const uri = image.trim();
  if (/\s/.test(uri)) {
    throw new ContextError(`image ${JSON.stringify(image)}: an image reference has no spaces`);
  }
  const m = ECR_URI.exec(uri);
  if (m) {
    return {
      kind: "ecr",
      account: m[1],
      region: m[2],
      partition: m[3] ? "aws-cn" : m[2].startsWith("us-gov-") ? "aws-us-gov" : "aws",
      repositoryName: m[4],
      tagOrDigest: m[6] ?? m[5] ?? "latest",
      uri,
    };
  }
  if (/\.dkr\.ecr[.-]/.test(uri)) {
    throw new ContextError(
      `image ${uri}: looks like an ECR image but is not <account>.dkr.ecr.<region>.amazonaws.com/<repository>[:<tag>|@sha256:<digest>]`,
    );
  }
  return { kind: "registry", uri };
}

/** The stack's inputs (see RtspTestServerStackProps for their meaning). */
export interface AppSettings {
  readonly image: ImageRef;
  readonly profile: Profile;
  readonly clusterName: string;
  readonly serviceName: string;
  readonly logGroupName?: string;
  readonly alarmTopicArn?: string;
  readonly vpcId?: string;
  readonly desiredCount: number;
  readonly internetFacing: boolean;
  readonly allowedCidr?: string;
}

// ECS: up to 255 letters, digits, hyphens and underscores.
const ECS_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const SNS_ARN = /^arn:aws(?:-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Reads and checks the context; throws ContextError naming the bad key. */
export function settingsFromContext(get: (key: string) => unknown): AppSettings {
  const str = (key: string): string | undefined => {
    const v = get(key);
    return v === undefined || v === null || String(v).trim() === "" ? undefined : String(v).trim();
  };

  const profileName = str("profile") ?? "default";
  const profile = Object.prototype.hasOwnProperty.call(PROFILES, profileName) ? PROFILES[profileName] : undefined;
  if (profile === undefined) {
    throw new ContextError(`profile ${JSON.stringify(profileName)}: use one of ${Object.keys(PROFILES).join(", ")}`);
  }

  const name = (key: string, fallback: string): string => {
    const v = str(key) ?? fallback;
    if (!ECS_NAME.test(v)) {
      throw new ContextError(`${key} ${JSON.stringify(v)}: up to 255 letters, digits, hyphens and underscores`);
    }
    return v;
  };

  const logGroupName = str("logGroupName");
  if (logGroupName !== undefined && !/^[.\-_/#A-Za-z0-9]{1,512}$/.test(logGroupName)) {
    throw new ContextError(`logGroupName ${JSON.stringify(logGroupName)}: not a CloudWatch Logs group name`);
  }

  const alarmTopicArn = str("alarmTopicArn");
  if (alarmTopicArn !== undefined && !SNS_ARN.test(alarmTopicArn)) {
    throw new ContextError(`alarmTopicArn ${JSON.stringify(alarmTopicArn)}: not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)`);
  }

  const desired = str("desiredCount") ?? "1";
  if (!/^\d+$/.test(desired)) {
    throw new ContextError(`desiredCount ${JSON.stringify(desired)}: a whole number`);
  }

  const internetFacing = str("internetFacing") ?? "false";
  if (internetFacing !== "true" && internetFacing !== "false") {
    throw new ContextError(`internetFacing ${JSON.stringify(internetFacing)}: true or false`);
  }

  const allowedCidr = str("allowedCidr");
  if (allowedCidr !== undefined) {
    const m = CIDR.exec(allowedCidr);
    if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) {
      throw new ContextError(`allowedCidr ${JSON.stringify(allowedCidr)}: an IPv4 CIDR such as 203.0.113.0/24`);
    }
  }

  const vpcId = str("vpcId");
  if (vpcId !== undefined && !/^vpc-[0-9a-f]{8,17}$/.test(vpcId)) {
    throw new ContextError(`vpcId ${JSON.stringify(vpcId)}: a VPC id such as vpc-0123456789abcdef0`);
  }

  return {
    image: parseImage(str("image")),
    profile,
    clusterName: name("clusterName", DEFAULT_CLUSTER_NAME),
    serviceName: name("serviceName", DEFAULT_SERVICE_NAME),
    logGroupName,
    alarmTopicArn,
    vpcId,
    desiredCount: Number(desired),
    internetFacing: internetFacing === "true",
    allowedCidr,
  };
}

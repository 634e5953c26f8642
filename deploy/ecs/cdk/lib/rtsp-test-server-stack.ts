// RtspTestServerStack: rtsp-test-server on ECS Fargate behind one Network Load
// Balancer.
//
// The container settings (cpu/memory, ports, environment, the container
// health check, stopTimeout, log options) are read from
// ../../task-definition.json, so that the plain task definition and this stack
// cannot drift apart; tests/deploy checks that file against the product.
//
// Why an NLB and no ALB: RTSP is a long-lived TCP protocol (RTSP/TCP
// interleaved), which only an NLB forwards. An NLB TCP target group can run
// its health check over HTTP on another port, so each RTSP target group asks
// the embedded gateway (`GET /health` on 8080, 200 only while k of n RTSP
// ports answer) instead of merely completing a TCP handshake on 8554. An ALB
// would add a second load balancer, DNS name and cost only to serve 8080.
import * as fs from "fs";
import * as path from "path";

import * as cdk from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cloudwatchActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecr from "aws-cdk-lib/aws-ecr";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as logs from "aws-cdk-lib/aws-logs";
import * as sns from "aws-cdk-lib/aws-sns";
import { NagSuppressions } from "cdk-nag";
import { Construct } from "constructs";

import { AppSettings, ImageRef } from "./settings";

/**
 * The stack's inputs: lib/settings.ts reads them from the `-c` context.
 *  - image: an ECR image (pulled with the execution role's ECR permissions) or any other registry's;
 *  - profile: the container check's timings and minHealthyPercent ("default" or "seed");
 *  - clusterName, serviceName, logGroupName: the names docs/operations.md uses;
 *  - alarmTopicArn: an SNS topic the alarms notify;
 *  - vpcId: an existing VPC (default: a new VPC with two AZs and one NAT gateway);
 *  - desiredCount, internetFacing (default internal), allowedCidr (default the VPC's CIDR).
 */
export interface RtspTestServerStackProps extends cdk.StackProps, AppSettings {}

// The subset of deploy/ecs/task-definition.json this stack uses.
interface TaskDefinitionFile {
  cpu: string;
  memory: string;
  containerDefinitions: Array<{
    name: string;
    portMappings: Array<{ name: string; containerPort: number; protocol: string }>;
    environment: Array<{ name: string; value: string }>;
    healthCheck: { command: string[]; interval: number; timeout: number; retries: number; startPeriod: number };
    stopTimeout: number;
    ulimits: Array<{ name: string; softLimit: number; hardLimit: number }>;
    logConfiguration: { options: Record<string, string> };
  }>;
}

/** The ports the NLB forwards: the four RTSP listeners of config/default.yaml. */
export const RTSP_PORTS = [8554, 8555, 8556, 8557];
/** The embedded HTTP gateway (rtsp_test_server --http_port=8080). */
export const HTTP_PORT = 8080;
/** grpc.health.v1 and the control API; kept inside the task (ECS Exec, health_probe). */
export const GRPC_PORT = 50051;
/** The stack's id and CloudFormation name (docs/operations.md: describe-stacks --stack-name). */
export const STACK_ID = "RtspTestServer";
export const STACK_DESCRIPTION =
  "rtsp-test-server: simulated RTSP cameras on ECS Fargate (NLB, exact gRPC/HTTP health)";
export function loadTaskDefinitionFile(): TaskDefinitionFile {
  const file = path.join(__dirname, "..", "..", "task-definition.json");
  return JSON.parse(fs.readFileSync(file, "utf8")) as TaskDefinitionFile;
}

export class RtspTestServerStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props: RtspTestServerStackProps) {
    super(scope, id, props);
    const spec = loadTaskDefinitionFile();
    const c = spec.containerDefinitions[0];

    // An existing VPC is looked up at synth time (needs the CLI's account and
    // region); its flow logs are its owner's business. A new VPC logs the
    // connections its security groups and network ACLs reject: that is what
    // answers "why can't the NLB / my client reach the task" (runbook, issue 3)
    // at a fraction of the volume of every RTSP flow.
    const vpc = props.vpcId
      ? ec2.Vpc.fromLookup(this, "Vpc", { vpcId: props.vpcId })
      : new ec2.Vpc(this, "Vpc", {
          maxAzs: 2,
          natGateways: 1,
          flowLogs: {
            Rejected: {
              destination: ec2.FlowLogDestination.toCloudWatchLogs(
                new logs.LogGroup(this, "FlowLogs", {
                  retention: logs.RetentionDays.TWO_WEEKS,
                  removalPolicy: cdk.RemovalPolicy.DESTROY,
                }),
              ),
              trafficType: ec2.FlowLogTrafficType.REJECT,
            },
          },
        });

    const cluster = new ecs.Cluster(this, "Cluster", {
      vpc,
      clusterName: props.clusterName,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    // Two weeks: enough to read back a failed deployment's logs, cheap for a test server.
    const logGroup = new logs.LogGroup(this, "Logs", {
      logGroupName: props.logGroupName ?? c.logConfiguration.options["awslogs-group"],
      retention: logs.RetentionDays.TWO_WEEKS,
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });

    const taskDefinition = new ecs.FargateTaskDefinition(this, "Task", {
      family: "rtsp-test-server",
      cpu: Number(spec.cpu),
      memoryLimitMiB: Number(spec.memory),
      runtimePlatform: {
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
      },
    });

    // The project's timings (task-definition.json) or the profile's (-c profile=seed).
    const hc = { ...c.healthCheck, ...props.profile.healthCheck };
    const container = taskDefinition.addContainer("Server", {
      containerName: c.name,
      image: containerImage(this, props.image),
      essential: true,
      // The image's ENTRYPOINT carries --config and --http_port=8080.
      environment: Object.fromEntries(c.environment.map((e) => [e.name, e.value])),
      portMappings: c.portMappings.map((p) => ({
        name: p.name,
        containerPort: p.containerPort,
        protocol: ecs.Protocol.TCP,
      })),
      healthCheck: {
        // ["CMD", "/usr/local/bin/health_probe", "-addr=127.0.0.1:50051"]: exec form,
        // no shell. Exit 0 only while the server's overall grpc.health.v1 status is
        // SERVING (k of n RTSP ports answered an RTSP OPTIONS in the last round).
        command: hc.command,
        interval: cdk.Duration.seconds(hc.interval),
        timeout: cdk.Duration.seconds(hc.timeout),
        retries: hc.retries,
        startPeriod: cdk.Duration.seconds(hc.startPeriod),
      },
      // > RTSP_TEST_DRAIN_TIMEOUT (20s) + the exit itself; then ECS sends SIGKILL.
      stopTimeout: cdk.Duration.seconds(c.stopTimeout),
      linuxParameters: new ecs.LinuxParameters(this, "LinuxParameters", { initProcessEnabled: true }),
      logging: ecs.LogDrivers.awsLogs({
        logGroup,
        streamPrefix: c.logConfiguration.options["awslogs-stream-prefix"],
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: cdk.Size.mebibytes(4),
      }),
    });
    for (const u of c.ulimits) {
      container.addUlimits({ name: u.name as ecs.UlimitName, softLimit: u.softLimit, hardLimit: u.hardLimit });
    }

    const service = new ecs.FargateService(this, "Service", {
      cluster,
      taskDefinition,
      serviceName: props.serviceName,
      desiredCount: props.desiredCount,
      // Default profile: a rolling deployment with no gap: the new task must be
      // healthy before the old one stops (100), and awsvpc gives every task its
      // own ports, so two can run side by side (200). The seed profile's 0 lets
      // ECS stop the only task first; restarting an unhealthy task does not
      // need it (docs/operations.md has the trade-off).
      minHealthyPercent: props.profile.minHealthyPercent,
      maxHealthyPercent: 200,
      // A deployment whose tasks keep failing their health checks is stopped and
      // rolled back to the last working task definition instead of looping.
      circuitBreaker: { enable: true, rollback: true },
      // For this long after a task starts, ECS ignores BOTH the NLB's health
      // checks and the container's own: NLB target registration plus 2 healthy
      // checks take 30-60 s. The price: a task that is broken from its start is
      // marked UNHEALTHY by its container check after startPeriod + retries x
      // interval (10 + 3 x 5 = 25 s) but replaced only when the grace period
      // ends, ~60 s after it started. A task that fails later is replaced after
      // retries x interval, ~15 s, or two failed NLB checks (20 s), whichever
      // comes first. Seed profile: 120 s of grace; its container check alone
      // takes 90 + 5 x 30 = 240 s from the start and 150 s later on, so the
      // NLB's verdict usually comes first (docs/operations.md has the table).
      healthCheckGracePeriod: cdk.Duration.seconds(props.profile.healthCheckGracePeriodSeconds),
      enableExecuteCommand: true,
      assignPublicIp: false,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });

    const allowedCidr = props.allowedCidr ?? vpc.vpcCidrBlock;
    const nlbSecurityGroup = new ec2.SecurityGroup(this, "NlbSecurityGroup", {
      vpc,
      description: "rtsp-test-server NLB: RTSP 8554-8557 and the HTTP gateway 8080",
      allowAllOutbound: false,
    });
    nlbSecurityGroup.addIngressRule(ec2.Peer.ipv4(allowedCidr), ec2.Port.tcpRange(8554, 8557), "RTSP");
    nlbSecurityGroup.addIngressRule(ec2.Peer.ipv4(allowedCidr), ec2.Port.tcp(HTTP_PORT), "HTTP gateway");

    const nlb = new elbv2.NetworkLoadBalancer(this, "Nlb", {
      vpc,
      internetFacing: props.internetFacing ?? false,
      securityGroups: [nlbSecurityGroup],
      crossZoneEnabled: true,
    });
    // Task <- NLB: the forwarded ports and the health checks on 8080. 50051
    // stays closed: health_probe and rtspctl reach it from inside the task.
    service.connections.allowFrom(nlbSecurityGroup, ec2.Port.tcpRange(8554, 8557), "RTSP from the NLB");
    service.connections.allowFrom(nlbSecurityGroup, ec2.Port.tcp(HTTP_PORT), "gateway and health checks from the NLB");
    nlbSecurityGroup.connections.allowTo(service, ec2.Port.tcpRange(8554, 8557), "RTSP to the tasks");
    nlbSecurityGroup.connections.allowTo(service, ec2.Port.tcp(HTTP_PORT), "HTTP to the tasks");

    // Every target group, RTSP or HTTP, asks the same question: GET /health on
    // 8080, which is 200 only while the server's overall status is SERVING.
    // 10 s x 2 = 20 s to leave or rejoin; exact checks need no longer streaks.
    const healthCheck: elbv2.HealthCheck = {
      enabled: true,
      protocol: elbv2.Protocol.HTTP,
      port: String(HTTP_PORT),
      path: "/health",
      healthyHttpCodes: "200",
      interval: cdk.Duration.seconds(10),
      timeout: cdk.Duration.seconds(5),
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 2,
    };
    const targetGroups = new Map<number, elbv2.NetworkTargetGroup>();
    for (const port of [...RTSP_PORTS, HTTP_PORT]) {
      const listener = nlb.addListener(`Tcp${port}`, { port, protocol: elbv2.Protocol.TCP });
      const group = listener.addTargets(`Target${port}`, {
        port,
        protocol: elbv2.Protocol.TCP,
        targets: [service.loadBalancerTarget({ containerName: c.name, containerPort: port })],
        healthCheck,
        // ECS deregisters a stopping task, waits this long (new connections go
        // elsewhere, open RTSP sessions go on), then sends SIGTERM; the server
        // then drains for RTSP_TEST_DRAIN_TIMEOUT. The default is 300 s.
        deregistrationDelay: cdk.Duration.seconds(10),
      });
      targetGroups.set(port, group);
    }

    // Per RTSP target group: any unhealthy target, and no healthy one. Both on
    // AWS/NetworkELB with the TargetGroup and LoadBalancer dimensions (the
    // target group's metric helpers set them), per minute, two minutes in a
    // row: one NLB health-check streak (2 x 10 s) or a deployment's overlap
    // does not page. No data for "no healthy target" counts as breaching: an
    // NLB publishes the metric while the group has targets, so silence means
    // none are registered (e.g. desiredCount 0).
    const topic = props.alarmTopicArn ? sns.Topic.fromTopicArn(this, "AlarmTopic", props.alarmTopicArn) : undefined;
    for (const port of RTSP_PORTS) {
      const metrics = targetGroups.get(port)!.metrics;
      const alarms = [
        new cloudwatch.Alarm(this, `UnhealthyHosts${port}`, {
          alarmName: `${props.serviceName}-rtsp-${port}-unhealthy-hosts`,
          alarmDescription: `rtsp-test-server: a target of the RTSP ${port} target group fails GET /health on 8080 (docs/operations.md, issue 3)`,
          metric: metrics.unHealthyHostCount({ statistic: cloudwatch.Stats.MAXIMUM, period: cdk.Duration.minutes(1) }),
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          threshold: 0,
          evaluationPeriods: 2,
          datapointsToAlarm: 2,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
        new cloudwatch.Alarm(this, `NoHealthyHosts${port}`, {
          alarmName: `${props.serviceName}-rtsp-${port}-no-healthy-hosts`,
          alarmDescription: `rtsp-test-server: no healthy target behind the NLB's RTSP port ${port} (docs/operations.md, issues 1-3)`,
          metric: metrics.healthyHostCount({ statistic: cloudwatch.Stats.MINIMUM, period: cdk.Duration.minutes(1) }),
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          threshold: 1,
          evaluationPeriods: 2,
          datapointsToAlarm: 2,
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        }),
      ];
      if (topic) {
        for (const alarm of alarms) {
          alarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
          alarm.addOkAction(new cloudwatchActions.SnsAction(topic));
        }
      }
    }

    new cdk.CfnOutput(this, "NlbDnsName", { value: nlb.loadBalancerDnsName });
    new cdk.CfnOutput(this, "ExampleRtspUrl", {
      value: cdk.Fn.join("", ["rtsp://", nlb.loadBalancerDnsName, ":8554/cam1"]),
    });
    new cdk.CfnOutput(this, "HealthUrl", {
      value: cdk.Fn.join("", ["http://", nlb.loadBalancerDnsName, ":8080/health?detailed=true"]),
    });
    // docs/operations.md starts its procedures from these (describe-stacks).
    new cdk.CfnOutput(this, "ClusterName", { value: cluster.clusterName });
    new cdk.CfnOutput(this, "ServiceName", { value: service.serviceName });
    new cdk.CfnOutput(this, "LogGroupName", { value: logGroup.logGroupName });
    new cdk.CfnOutput(this, "TaskDefinitionFamily", { value: taskDefinition.family });
    for (const [port, group] of targetGroups) {
      new cdk.CfnOutput(this, `TargetGroupArn${port}`, { value: group.targetGroupArn });
    }

    // cdk-nag (AwsSolutionsChecks, bin/app.ts and test/): what it finds and
    // cannot be fixed here is acknowledged below, each with its reason. Fixed
    // instead: VPC flow logs (VPC7), the execution role's logs:* on "*" (the
    // reduceEc2FargateCloudWatchPermissions flag in cdk.json), Container
    // Insights (ECS4).
    NagSuppressions.addResourceSuppressions(taskDefinition, [
      {
        id: "AwsSolutions-ECS2",
        reason:
          "The environment holds only non-secret tuning (RTSP_TEST_DRAIN_TIMEOUT, RTSP_TEST_LOG_LEVEL), shared with " +
          "task-definition.json and checked by tests/deploy; a control token, if any, belongs in `secrets`.",
      },
    ]);
    NagSuppressions.addResourceSuppressions(nlb, [
      {
        id: "AwsSolutions-ELB2",
        reason:
          "An NLB writes access logs only for TLS listeners; this one has TCP listeners only (RTSP, HTTP 8080), " +
          "so there is nothing to log. Rejected connections are in the VPC flow logs, and the server logs each client.",
      },
    ]);
    NagSuppressions.addResourceSuppressions(
      taskDefinition.obtainExecutionRole(),
      [
        {
          id: "AwsSolutions-IAM5",
          appliesTo: ["Resource::*"],
          reason:
            "ecr:GetAuthorizationToken does not support resource-level permissions (Resource must be \"*\"); the " +
            "image pull actions themselves are limited to the image's repository.",
        },
      ],
      true,
    );
    NagSuppressions.addResourceSuppressions(
      taskDefinition.taskRole,
      [
        {
          id: "AwsSolutions-IAM5",
          appliesTo: ["Resource::*"],
          reason:
            "ECS Exec (runbook: health_probe and curl inside the task) needs ssmmessages:CreateControlChannel, " +
            "CreateDataChannel, OpenControlChannel and OpenDataChannel, which support no resource-level permissions.",
        },
      ],
      true,
    );
    NagSuppressions.addResourceSuppressions(nlbSecurityGroup, [
      {
        id: "CdkNagValidationFailure",
        reason:
          "AwsSolutions-EC23 cannot evaluate the default ingress CIDR, the new VPC's own CIDR (a CloudFormation " +
          "reference): it is not 0.0.0.0/0. With -c allowedCidr=<literal> the rule is evaluated and refuses 0.0.0.0/0.",
      },
    ]);
  }
}

/**
 * An ECR image comes from an imported repository, so that the task's execution
 * role is granted the pull (ecr:GetAuthorizationToken, BatchGetImage, ...);
 * without it the task stops with CannotPullContainerError. Any other image is
 * pulled as is (public registries need no permission).
 */
function containerImage(scope: Construct, image: ImageRef): ecs.ContainerImage {
  if (image.kind === "registry") {
    return ecs.ContainerImage.fromRegistry(image.uri);
  }
  const repository = ecr.Repository.fromRepositoryAttributes(scope, "ImageRepository", {
    repositoryName: image.repositoryName,
    repositoryArn: `arn:${image.partition}:ecr:${image.region}:${image.account}:repository/${image.repositoryName}`,
  });
  return ecs.ContainerImage.fromEcrRepository(repository, image.tagOrDigest);
}

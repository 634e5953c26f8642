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
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";

export interface RtspTestServerStackProps extends cdk.StackProps {
  /** Container image, e.g. <account>.dkr.ecr.<region>.amazonaws.com/rtsp-test-server:1.0. */
  readonly image: string;
  /** An existing VPC; default: a new VPC with two AZs and one NAT gateway. */
  readonly vpcId?: string;
  /** Number of tasks; default 1. */
  readonly desiredCount?: number;
  /** An internet-facing NLB; default internal. */
  readonly internetFacing?: boolean;
  /** Who may reach the NLB (RTSP ports and 8080); default the VPC's CIDR. */
  readonly allowedCidr?: string;
}

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

export function loadTaskDefinitionFile(): TaskDefinitionFile {
  const file = path.join(__dirname, "..", "..", "task-definition.json");
  return JSON.parse(fs.readFileSync(file, "utf8")) as TaskDefinitionFile;
}

export class RtspTestServerStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props: RtspTestServerStackProps) {
    super(scope, id, props);
    const spec = loadTaskDefinitionFile();
    const c = spec.containerDefinitions[0];

    const vpc = props.vpcId
      ? ec2.Vpc.fromLookup(this, "Vpc", { vpcId: props.vpcId })
      : new ec2.Vpc(this, "Vpc", { maxAzs: 2, natGateways: 1 });

    const cluster = new ecs.Cluster(this, "Cluster", {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    // Two weeks: enough to read back a failed deployment's logs, cheap for a test server.
    const logGroup = new logs.LogGroup(this, "Logs", {
      logGroupName: c.logConfiguration.options["awslogs-group"],
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

    const hc = c.healthCheck;
    const container = taskDefinition.addContainer("Server", {
      containerName: c.name,
      image: ecs.ContainerImage.fromRegistry(props.image),
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
      desiredCount: props.desiredCount ?? 1,
      // Rolling deployment with no gap: the new task must be healthy before the
      // old one stops (100), and awsvpc gives every task its own ports, so two
      // can run side by side (200). The seed's minHealthyPercent 0 let ECS stop
      // the only task first; restarting an unhealthy task does not need it.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      // A deployment whose tasks keep failing their health checks is stopped and
      // rolled back to the last working task definition instead of looping.
      circuitBreaker: { enable: true, rollback: true },
      // Only load-balancer health is held back during the grace period: NLB
      // target registration and 2 healthy checks take 30-60 s on their own,
      // while the server itself is SERVING ~1 s after start (the container
      // check's startPeriod covers that).
      healthCheckGracePeriod: cdk.Duration.seconds(60),
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
    for (const port of [...RTSP_PORTS, HTTP_PORT]) {
      const listener = nlb.addListener(`Tcp${port}`, { port, protocol: elbv2.Protocol.TCP });
      listener.addTargets(`Target${port}`, {
        port,
        protocol: elbv2.Protocol.TCP,
        targets: [service.loadBalancerTarget({ containerName: c.name, containerPort: port })],
        healthCheck,
        // ECS deregisters a stopping task, waits this long (new connections go
        // elsewhere, open RTSP sessions go on), then sends SIGTERM; the server
        // then drains for RTSP_TEST_DRAIN_TIMEOUT. The default is 300 s.
        deregistrationDelay: cdk.Duration.seconds(10),
      });
    }

    new cdk.CfnOutput(this, "NlbDnsName", { value: nlb.loadBalancerDnsName });
    new cdk.CfnOutput(this, "ExampleRtspUrl", {
      value: cdk.Fn.join("", ["rtsp://", nlb.loadBalancerDnsName, ":8554/cam1"]),
    });
    new cdk.CfnOutput(this, "HealthUrl", {
      value: cdk.Fn.join("", ["http://", nlb.loadBalancerDnsName, ":8080/health?detailed=true"]),
    });
    new cdk.CfnOutput(this, "ClusterName", { value: cluster.clusterName });
    new cdk.CfnOutput(this, "ServiceName", { value: service.serviceName });
    new cdk.CfnOutput(this, "LogGroupName", { value: logGroup.logGroupName });
  }
}

// Assertion tests of the synthesized stack (node --test, after tsc).
import * as assert from "node:assert/strict";
import { describe, test } from "node:test";

import { GRPC_PORT, HTTP_PORT, RTSP_PORTS } from "../lib/rtsp-test-server-stack";
import { ContextError, parseImage, PROFILES, settingsFromContext } from "../lib/settings";
import { Json, only, resources, SAMPLE_ECR_IMAGE, synth, taskDefinitionFile } from "./helpers";

const FORWARDED_PORTS = [...RTSP_PORTS, HTTP_PORT].sort((a, b) => a - b);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

function service(json: Json): Json {
  return only(json, "AWS::ECS::Service")[1];
}
function container(json: Json): Json {
  return only(json, "AWS::ECS::TaskDefinition")[1].ContainerDefinitions[0];
}
/** The logical id a {Ref} or {Fn::GetAtt} points at. */
function refId(value: Json): string | undefined {
  if (value && typeof value === "object") {
    if (typeof value.Ref === "string") return value.Ref;
    if (Array.isArray(value["Fn::GetAtt"])) return value["Fn::GetAtt"][0];
  }
  return undefined;
}
function statements(json: Json, roleId: string): Json[] {
  return resources(json, "AWS::IAM::Policy")
    .filter(([, p]) => (p.Roles ?? []).some((r: Json) => refId(r) === roleId))
    .flatMap(([, p]) => p.PolicyDocument.Statement);
}
const asList = (x: Json): Json[] => (Array.isArray(x) ? [...x] : [x]);

describe("context", () => {
  test("no image: synth stops with a message naming -c image", () => {
    assert.throws(() => settingsFromContext(() => undefined), (e: Error) => {
      assert.ok(e instanceof ContextError);
      assert.match(e.message, /-c image=<account>\.dkr\.ecr\.<region>\.amazonaws\.com\/rtsp-test-server:<tag>/);
      return true;
    });
    assert.throws(() => parseImage("  "), ContextError);
  });

  test("ECR image references are parsed; others are pulled as they are", () => {
    assert.deepEqual(parseImage(SAMPLE_ECR_IMAGE), {
      kind: "ecr",
      account: "123456789012",
      region: "eu-west-1",
      partition: "aws",
      repositoryName: "rtsp-test-server",
      tagOrDigest: "1.2.3",
      uri: SAMPLE_ECR_IMAGE,
    });
    const digest = "sha256:" + "a".repeat(64);
    const byDigest = parseImage(`210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn/team/rtsp@${digest}`);
    assert.equal(byDigest.kind, "ecr");
    if (byDigest.kind === "ecr") {
      assert.equal(byDigest.partition, "aws-cn");
      assert.equal(byDigest.repositoryName, "team/rtsp");
      assert.equal(byDigest.tagOrDigest, digest);
    }
    const untagged = parseImage("123456789012.dkr.ecr.us-east-1.amazonaws.com/rtsp-test-server");
    assert.equal(untagged.kind === "ecr" && untagged.tagOrDigest, "latest");
    assert.deepEqual(parseImage("public.ecr.aws/example/rtsp-test-server:1.0"), {
      kind: "registry",
      uri: "public.ecr.aws/example/rtsp-test-server:1.0",
    });
    assert.throws(() => parseImage("123456789012.dkr.ecr.eu-west-1.amazonaws.com/Bad Repo:1"), ContextError);
    assert.throws(() => parseImage("12345.dkr.ecr.eu-west-1.amazonaws.com/rtsp:1"), /looks like an ECR image/);
  });

  test("bad values name their key", () => {
    const ctx = (extra: Record<string, string>) => (k: string) => ({ image: SAMPLE_ECR_IMAGE, ...extra })[k];
    assert.throws(() => settingsFromContext(ctx({ profile: "fast" })), /profile "fast": use one of default, seed/);
    assert.throws(() => settingsFromContext(ctx({ profile: "toString" })), /profile "toString"/);
    assert.throws(() => settingsFromContext(ctx({ clusterName: "a b" })), /clusterName/);
    assert.throws(() => settingsFromContext(ctx({ alarmTopicArn: "my-topic" })), /alarmTopicArn/);
    assert.throws(() => settingsFromContext(ctx({ desiredCount: "two" })), /desiredCount/);
    assert.throws(() => settingsFromContext(ctx({ allowedCidr: "10.0.0.0/33" })), /allowedCidr/);
    assert.throws(() => settingsFromContext(ctx({ internetFacing: "yes" })), /internetFacing/);
  });
});

describe("default profile", () => {
  const { json, errors, warnings, missingContext } = synth();
  const file = taskDefinitionFile().containerDefinitions[0];

  test("synthesizes with no error or warning (cdk-nag included) and no account lookup", () => {
    assert.deepEqual(errors, []);
    assert.deepEqual(warnings, []);
    assert.deepEqual(missingContext, []);
  });

  test("service: named, Fargate, circuit breaker with rollback, 100/200, 60 s grace, ECS Exec", () => {
    // The default profile's grace period must outlast its start period plus two NLB checks.
    assert.ok(PROFILES.default.healthCheckGracePeriodSeconds >= container(json).HealthCheck.StartPeriod + 2 * 10);
    const s = service(json);
    assert.equal(s.ServiceName, "rtsp-test-server");
    assert.equal(s.LaunchType, "FARGATE");
    assert.deepEqual(s.DeploymentConfiguration.DeploymentCircuitBreaker, { Enable: true, Rollback: true });
    assert.equal(s.DeploymentConfiguration.MinimumHealthyPercent, 100);
    assert.equal(s.DeploymentConfiguration.MaximumPercent, 200);
    assert.equal(s.HealthCheckGracePeriodSeconds, 60);
    assert.equal(s.EnableExecuteCommand, true);
    assert.equal(s.DesiredCount, 1);
    const [clusterId, cluster] = only(json, "AWS::ECS::Cluster");
    assert.equal(cluster.ClusterName, "rtsp-cluster");
    assert.equal(refId(s.Cluster), clusterId);
  });

  test("container health check: health_probe in exec form, the project's 5 s / 2 s / 3 / 10 s", () => {
    const hc = container(json).HealthCheck;
    assert.deepEqual(hc.Command, ["CMD", "/usr/local/bin/health_probe", "-addr=127.0.0.1:50051"]);
    assert.deepEqual(
      { interval: hc.Interval, timeout: hc.Timeout, retries: hc.Retries, startPeriod: hc.StartPeriod },
      { interval: 5, timeout: 2, retries: 3, startPeriod: 10 },
    );
    // ... which are deploy/ecs/task-definition.json's (tests/deploy ties that to the
    // Dockerfile, Compose, Kubernetes and the server's defaults).
    assert.deepEqual(hc.Command, file.healthCheck.command);
    assert.deepEqual(
      { command: hc.Command, interval: hc.Interval, timeout: hc.Timeout, retries: hc.Retries, startPeriod: hc.StartPeriod },
      file.healthCheck,
      "CDK's container check drifted from task-definition.json",
    );
  });

  test("task: awsvpc, cpu/memory and stop timing as in task-definition.json, stopTimeout > drain", () => {
    const [, task] = only(json, "AWS::ECS::TaskDefinition");
    const spec = taskDefinitionFile();
    assert.equal(task.NetworkMode, "awsvpc");
    assert.equal(task.Family, spec.family);
    assert.equal(task.Cpu, spec.cpu);
    assert.equal(task.Memory, spec.memory);
    const c = container(json);
    assert.equal(c.Name, file.name);
    assert.equal(c.StopTimeout, file.stopTimeout);
    const drain = c.Environment.find((e: Json) => e.Name === "RTSP_TEST_DRAIN_TIMEOUT");
    assert.ok(drain, "RTSP_TEST_DRAIN_TIMEOUT is set");
    assert.ok(c.StopTimeout > Number(String(drain.Value).replace(/s$/, "")));
    assert.equal(c.LinuxParameters.InitProcessEnabled, true);
  });

  test("ports: the container maps 8554-8557, 8080, 50051 over TCP", () => {
    const c = container(json);
    assert.deepEqual(sorted(c.PortMappings.map((p: Json) => p.ContainerPort)), sorted([...FORWARDED_PORTS, GRPC_PORT]));
    assert.ok(c.PortMappings.every((p: Json) => p.Protocol === "tcp"));
  });

  test("NLB: TCP listeners 8554-8557 and 8080, every target group health-checked by HTTP GET /health on 8080", () => {
    const [, lb] = only(json, "AWS::ElasticLoadBalancingV2::LoadBalancer");
    assert.equal(lb.Type, "network");
    assert.equal(lb.Scheme, "internal");
    const listeners = resources(json, "AWS::ElasticLoadBalancingV2::Listener").map(([, l]) => l);
    assert.deepEqual(sorted(listeners.map((l) => l.Port)), FORWARDED_PORTS);
    assert.ok(listeners.every((l) => l.Protocol === "TCP"));
    const groups = resources(json, "AWS::ElasticLoadBalancingV2::TargetGroup").map(([, g]) => g);
    assert.deepEqual(sorted(groups.map((g) => g.Port)), FORWARDED_PORTS);
    for (const g of groups) {
      assert.equal(g.Protocol, "TCP", `target group ${g.Port}`);
      assert.equal(g.TargetType, "ip");
      assert.equal(g.HealthCheckEnabled, true);
      assert.equal(g.HealthCheckProtocol, "HTTP");
      assert.equal(g.HealthCheckPort, "8080");
      assert.equal(g.HealthCheckPath, "/health");
      assert.deepEqual(g.Matcher, { HttpCode: "200" });
      assert.equal(g.HealthCheckIntervalSeconds, 10);
      assert.equal(g.HealthCheckTimeoutSeconds, 5);
      assert.equal(g.HealthyThresholdCount, 2);
      assert.equal(g.UnhealthyThresholdCount, 2);
      const delay = g.TargetGroupAttributes.find((a: Json) => a.Key === "deregistration_delay.timeout_seconds");
      assert.equal(delay.Value, "10");
    }
    const registered = service(json).LoadBalancers.map((l: Json) => l.ContainerPort);
    assert.deepEqual(sorted(registered), FORWARDED_PORTS);
  });

  test("security groups: 50051 is never opened; the NLB is reachable on 8554-8557 and 8080 only", () => {
    const rules: Json[] = [
      ...resources(json, "AWS::EC2::SecurityGroupIngress").map(([, r]) => r),
      ...resources(json, "AWS::EC2::SecurityGroup").flatMap(([, g]) => g.SecurityGroupIngress ?? []),
    ];
    assert.ok(rules.length > 0);
    for (const r of rules) {
      assert.notEqual(r.IpProtocol, "-1", `an all-traffic rule: ${JSON.stringify(r)}`);
      assert.ok(!(r.FromPort <= GRPC_PORT && GRPC_PORT <= r.ToPort), `50051 opened: ${JSON.stringify(r)}`);
      const range = [r.FromPort, r.ToPort];
      assert.ok(
        JSON.stringify(range) === "[8554,8557]" || JSON.stringify(range) === "[8080,8080]",
        `unexpected ingress ${JSON.stringify(r)}`,
      );
    }
    const egress: Json[] = [
      ...resources(json, "AWS::EC2::SecurityGroupEgress").map(([, r]) => r),
      ...resources(json, "AWS::EC2::SecurityGroup").flatMap(([, g]) => g.SecurityGroupEgress ?? []),
    ].filter((r) => r.CidrIp !== "255.255.255.255/32"); // CDK's "no outbound" marker
    for (const r of egress.filter((r) => r.DestinationSecurityGroupId)) {
      assert.ok(!(r.FromPort <= GRPC_PORT && GRPC_PORT <= r.ToPort), `50051 allowed out: ${JSON.stringify(r)}`);
    }
  });

  test("alarms: per RTSP target group, UnHealthyHostCount > 0 and HealthyHostCount < 1 on AWS/NetworkELB", () => {
    const alarms = resources(json, "AWS::CloudWatch::Alarm").map(([, a]) => a);
    assert.equal(alarms.length, 2 * RTSP_PORTS.length);
    const groupIdByPort = new Map(
      resources(json, "AWS::ElasticLoadBalancingV2::TargetGroup").map(([id, g]) => [g.Port as number, id]),
    );
    const [lbId] = only(json, "AWS::ElasticLoadBalancingV2::LoadBalancer");
    const listenerIdByPort = new Map(
      resources(json, "AWS::ElasticLoadBalancingV2::Listener").map(([id, l]) => {
        assert.equal(refId(l.LoadBalancerArn), lbId);
        return [l.Port as number, id];
      }),
    );
    // The load balancer's full name (net/<name>/<id>), cut by CDK from the ARN
    // of the port's listener (arn:...:listener/net/<name>/<id>/<listener-id>).
    const loadBalancerFullName = (port: number) => {
      const part = (i: number) => ({ "Fn::Select": [i, { "Fn::Split": ["/", { Ref: listenerIdByPort.get(port) }] }] });
      return { "Fn::Join": ["", [part(1), "/", part(2), "/", part(3)]] };
    };
    for (const port of RTSP_PORTS) {
      for (const [metric, op, threshold, stat, missing, suffix] of [
        ["UnHealthyHostCount", "GreaterThanThreshold", 0, "Maximum", "notBreaching", "unhealthy-hosts"],
        ["HealthyHostCount", "LessThanThreshold", 1, "Minimum", "breaching", "no-healthy-hosts"],
      ] as const) {
        const a = alarms.find(
          (x) => x.MetricName === metric && refId(x.Dimensions.find((d: Json) => d.Name === "TargetGroup").Value) === groupIdByPort.get(port),
        );
        assert.ok(a, `${metric} alarm for ${port}`);
        assert.equal(a.AlarmName, `rtsp-test-server-rtsp-${port}-${suffix}`);
        assert.equal(a.Namespace, "AWS/NetworkELB");
        assert.equal(a.ComparisonOperator, op);
        assert.equal(a.Threshold, threshold);
        assert.equal(a.Statistic, stat);
        assert.equal(a.Period, 60);
        assert.equal(a.EvaluationPeriods, 2);
        assert.equal(a.TreatMissingData, missing);
        const dims = Object.fromEntries(a.Dimensions.map((d: Json) => [d.Name, d.Value]));
        assert.deepEqual(Object.keys(dims).sort(), ["LoadBalancer", "TargetGroup"]);
        assert.deepEqual(dims.TargetGroup, { "Fn::GetAtt": [groupIdByPort.get(port), "TargetGroupFullName"] });
        assert.deepEqual(dims.LoadBalancer, loadBalancerFullName(port));
        assert.equal(a.AlarmActions, undefined, "no topic without -c alarmTopicArn");
      }
    }
  });

  test("log group: named as in task-definition.json, two weeks, used by the container", () => {
    const groups = resources(json, "AWS::Logs::LogGroup");
    const named = groups.filter(([, g]) => g.LogGroupName === "/ecs/rtsp-test-server");
    assert.equal(named.length, 1);
    const [logId, log] = named[0];
    assert.equal(log.LogGroupName, file.logConfiguration.options["awslogs-group"]);
    assert.equal(log.RetentionInDays, 14);
    const lc = container(json).LogConfiguration;
    assert.equal(lc.LogDriver, "awslogs");
    assert.equal(refId(lc.Options["awslogs-group"]), logId);
    assert.equal(lc.Options["awslogs-stream-prefix"], file.logConfiguration.options["awslogs-stream-prefix"]);
    assert.ok(groups.every(([, g]) => g.RetentionInDays > 0), "every log group has a retention");
  });

  test("ECR: the image comes from the repository and the execution role may pull it", () => {
    const [, task] = only(json, "AWS::ECS::TaskDefinition");
    assert.deepEqual(container(json).Image, {
      "Fn::Join": ["", ["123456789012.dkr.ecr.eu-west-1.", { Ref: "AWS::URLSuffix" }, "/rtsp-test-server:1.2.3"]],
    });
    const executionRole = refId(task.ExecutionRoleArn)!;
    const st = statements(json, executionRole);
    const pull = st.find((s) => asList(s.Action).includes("ecr:BatchGetImage"));
    assert.ok(pull, "ecr:BatchGetImage granted");
    assert.deepEqual(asList(pull.Action).sort(), ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]);
    assert.equal(pull.Resource, "arn:aws:ecr:eu-west-1:123456789012:repository/rtsp-test-server");
    assert.ok(st.some((s) => asList(s.Action).includes("ecr:GetAuthorizationToken") && s.Resource === "*"));
  });

  test("IAM: no logs action on '*' (reduceEc2FargateCloudWatchPermissions), the task role only for ECS Exec", () => {
    const all = resources(json, "AWS::IAM::Policy").flatMap(([, p]) => p.PolicyDocument.Statement);
    for (const s of all) {
      if (asList(s.Resource).includes("*")) {
        for (const action of asList(s.Action)) {
          assert.ok(/^(ecr:GetAuthorizationToken|ssmmessages:\w+)$/.test(action), `${action} on "*"`);
        }
      }
    }
    const [, task] = only(json, "AWS::ECS::TaskDefinition");
    const taskActions = statements(json, refId(task.TaskRoleArn)!).flatMap((s) => asList(s.Action));
    assert.deepEqual(taskActions.sort(), [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]);
  });

  test("VPC flow logs record rejected connections", () => {
    const [, flow] = only(json, "AWS::EC2::FlowLog");
    assert.equal(flow.TrafficType, "REJECT");
    assert.equal(flow.LogDestinationType, "cloud-watch-logs");
  });

  test("outputs: cluster, service, log group, task family and every target group ARN", () => {
    const out = json.Outputs;
    const [clusterId] = only(json, "AWS::ECS::Cluster");
    const [serviceId] = only(json, "AWS::ECS::Service");
    assert.equal(refId(out.ClusterName.Value), clusterId);
    assert.deepEqual(out.ServiceName.Value, { "Fn::GetAtt": [serviceId, "Name"] });
    assert.equal(refId(out.LogGroupName.Value), resources(json, "AWS::Logs::LogGroup").find(([, g]) => g.LogGroupName === "/ecs/rtsp-test-server")![0]);
    for (const [id, g] of resources(json, "AWS::ElasticLoadBalancingV2::TargetGroup")) {
      assert.deepEqual(out[`TargetGroupArn${g.Port}`].Value, { Ref: id });
    }
    assert.ok(out.NlbDnsName && out.HealthUrl && out.TaskDefinitionFamily);
  });

  test("cdk-nag: every acknowledged rule carries a written reason", () => {
    const suppressions = Object.values(json.Resources as Record<string, Json>).flatMap(
      (r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? [],
    );
    assert.ok(suppressions.length >= 5);
    for (const s of suppressions) {
      assert.ok(typeof s.reason === "string" && s.reason.length >= 40, `${s.id}: reason too short`);
    }
    const ids = new Set(suppressions.map((s: Json) => s.id));
    for (const id of ["AwsSolutions-ECS2", "AwsSolutions-ELB2", "AwsSolutions-IAM5"]) assert.ok(ids.has(id), id);
    for (const fixed of ["AwsSolutions-VPC7", "AwsSolutions-ECS4"]) assert.ok(!ids.has(fixed), `${fixed} is fixed, not suppressed`);
  });
});

describe("seed profile (-c profile=seed)", () => {
  const seed = synth({ profile: "seed" });
  const base = synth();

  test("synthesizes with no error or warning", () => {
    assert.deepEqual(seed.errors, []);
    assert.deepEqual(seed.warnings, []);
  });

  test("the seed's container check 30 s / 10 s / 5 / 90 s, minHealthyPercent 0, 120 s of grace", () => {
    const hc = container(seed.json).HealthCheck;
    assert.deepEqual(
      { interval: hc.Interval, timeout: hc.Timeout, retries: hc.Retries, startPeriod: hc.StartPeriod },
      { interval: 30, timeout: 10, retries: 5, startPeriod: 90 },
    );
    assert.deepEqual(PROFILES.seed.healthCheck, { interval: 30, timeout: 10, retries: 5, startPeriod: 90 });
    assert.equal(service(seed.json).DeploymentConfiguration.MinimumHealthyPercent, 0);
    // The grace period outlasts the start period plus two NLB checks (10 s).
    const grace = service(seed.json).HealthCheckGracePeriodSeconds;
    assert.equal(grace, 120);
    assert.ok(grace >= hc.StartPeriod + 2 * 10);
  });

  test("everything else is the default profile's", () => {
    const hc = container(seed.json).HealthCheck;
    assert.deepEqual(hc.Command, container(base.json).HealthCheck.Command);
    const s = service(seed.json);
    const b = service(base.json);
    assert.deepEqual(s.DeploymentConfiguration.DeploymentCircuitBreaker, b.DeploymentConfiguration.DeploymentCircuitBreaker);
    assert.equal(s.DeploymentConfiguration.MaximumPercent, 200);
    const strip = (j: Json) => {
      const copy = JSON.parse(JSON.stringify(j));
      for (const r of Object.values(copy.Resources as Record<string, Json>)) {
        if (r.Type === "AWS::ECS::TaskDefinition") delete r.Properties.ContainerDefinitions[0].HealthCheck;
        if (r.Type === "AWS::ECS::Service") {
          delete r.Properties.DeploymentConfiguration.MinimumHealthyPercent;
          delete r.Properties.HealthCheckGracePeriodSeconds;
        }
      }
      return copy;
    };
    assert.deepEqual(strip(seed.json), strip(base.json));
  });
});

describe("context overrides", () => {
  test("cluster, service and log group names, alarm topic", () => {
    const topic = "arn:aws:sns:eu-west-1:123456789012:rtsp-alerts";
    const { json, errors, warnings } = synth({
      clusterName: "video-tests",
      serviceName: "rtsp-a",
      logGroupName: "/ecs/rtsp-a",
      alarmTopicArn: topic,
    });
    assert.deepEqual([errors, warnings], [[], []]);
    assert.equal(only(json, "AWS::ECS::Cluster")[1].ClusterName, "video-tests");
    assert.equal(service(json).ServiceName, "rtsp-a");
    assert.ok(resources(json, "AWS::Logs::LogGroup").some(([, g]) => g.LogGroupName === "/ecs/rtsp-a"));
    const alarms = resources(json, "AWS::CloudWatch::Alarm").map(([, a]) => a);
    assert.equal(alarms.length, 8);
    for (const a of alarms) {
      assert.match(a.AlarmName, /^rtsp-a-rtsp-855[4-7]-(unhealthy|no-healthy)-hosts$/);
      assert.deepEqual(a.AlarmActions, [topic]);
      assert.deepEqual(a.OKActions, [topic]);
    }
  });

  test("a non-ECR image is pulled as is, with no ECR permission", () => {
    const { json, errors, warnings } = synth({ image: "public.ecr.aws/example/rtsp-test-server:1.0" });
    assert.deepEqual([errors, warnings], [[], []]);
    assert.equal(container(json).Image, "public.ecr.aws/example/rtsp-test-server:1.0");
    const actions = resources(json, "AWS::IAM::Policy").flatMap(([, p]) => p.PolicyDocument.Statement.flatMap((s: Json) => asList(s.Action)));
    assert.ok(!actions.some((a) => a.startsWith("ecr:")));
  });

  test("allowedCidr 0.0.0.0/0 is refused by cdk-nag (AwsSolutions-EC23)", () => {
    const { errors } = synth({ allowedCidr: "0.0.0.0/0", internetFacing: "true" });
    assert.ok(errors.some((e) => e.includes("AwsSolutions-EC23")), errors.join("\n"));
  });
});

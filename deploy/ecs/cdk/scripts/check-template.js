#!/usr/bin/env node
// Asserts the properties of the synthesized CloudFormation template that the
// runbook (docs/operations.md) relies on. Usage:
//   node scripts/check-template.js cdk.out/RtspTestServer.template.json
// Exit 0 when every check passes; prints each failure and exits 1 otherwise.
"use strict";
const fs = require("fs");
const path = require("path");

const templatePath = process.argv[2] || "cdk.out/RtspTestServer.template.json";
const template = JSON.parse(fs.readFileSync(templatePath, "utf8"));
const spec = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "task-definition.json"), "utf8"));
const specContainer = spec.containerDefinitions[0];

const failures = [];
let passed = 0;
function check(what, ok, detail) {
  if (ok) {
    passed++;
  } else {
    failures.push(`${what}${detail === undefined ? "" : ": " + JSON.stringify(detail)}`);
  }
}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const sortedNumbers = (xs) => [...xs].map(Number).sort((a, b) => a - b);
const ofType = (type) =>
  Object.values(template.Resources || {}).filter((r) => r.Type === type).map((r) => r.Properties || {});

// --- The service: circuit breaker with rollback, rolling deployment, ECS Exec.
const services = ofType("AWS::ECS::Service");
check("exactly one ECS service", services.length === 1, services.length);
const service = services[0] || {};
const deployment = service.DeploymentConfiguration || {};
check("circuit breaker enabled with rollback",
      same(deployment.DeploymentCircuitBreaker, { Enable: true, Rollback: true }), deployment.DeploymentCircuitBreaker);
check("minimumHealthyPercent 100", deployment.MinimumHealthyPercent === 100, deployment.MinimumHealthyPercent);
check("maximumPercent 200", deployment.MaximumPercent === 200, deployment.MaximumPercent);
check("ECS Exec enabled", service.EnableExecuteCommand === true, service.EnableExecuteCommand);
check("health check grace period set", service.HealthCheckGracePeriodSeconds === 60, service.HealthCheckGracePeriodSeconds);
check("Fargate", service.LaunchType === "FARGATE", service.LaunchType);

// --- The task definition and its container.
const tasks = ofType("AWS::ECS::TaskDefinition");
check("exactly one task definition", tasks.length === 1, tasks.length);
const task = tasks[0] || {};
check("awsvpc network mode", task.NetworkMode === "awsvpc", task.NetworkMode);
check("cpu as in task-definition.json", task.Cpu === spec.cpu, task.Cpu);
check("memory as in task-definition.json", task.Memory === spec.memory, task.Memory);
const container = (task.ContainerDefinitions || [])[0] || {};
const hc = container.HealthCheck || {};
check("container health check command",
      same(hc.Command, ["CMD", "/usr/local/bin/health_probe", "-addr=127.0.0.1:50051"]), hc.Command);
check("health check command as in task-definition.json", same(hc.Command, specContainer.healthCheck.command), hc.Command);
for (const [cfn, key] of [["Interval", "interval"], ["Timeout", "timeout"], ["Retries", "retries"], ["StartPeriod", "startPeriod"]]) {
  check(`health check ${key} as in task-definition.json`, hc[cfn] === specContainer.healthCheck[key], hc[cfn]);
}
check("stopTimeout as in task-definition.json", container.StopTimeout === specContainer.stopTimeout, container.StopTimeout);
const drain = (container.Environment || []).find((e) => e.Name === "RTSP_TEST_DRAIN_TIMEOUT");
const drainSeconds = drain ? Number(String(drain.Value).replace(/s$/, "")) : NaN;
check("RTSP_TEST_DRAIN_TIMEOUT set in whole seconds", Number.isFinite(drainSeconds), drain);
check("stopTimeout > drain timeout", container.StopTimeout > drainSeconds, [container.StopTimeout, drainSeconds]);
check("init process enabled", (container.LinuxParameters || {}).InitProcessEnabled === true, container.LinuxParameters);
check("awslogs log driver", (container.LogConfiguration || {}).LogDriver === "awslogs", container.LogConfiguration);
const containerPorts = sortedNumbers((container.PortMappings || []).map((p) => p.ContainerPort));
check("container ports 8554-8557, 8080, 50051", same(containerPorts, [8080, 8554, 8555, 8556, 8557, 50051]), containerPorts);
check("every port mapping is TCP", (container.PortMappings || []).every((p) => p.Protocol === "tcp"), container.PortMappings);

// --- The NLB: TCP listeners for the RTSP ports and 8080, HTTP health checks on /health:8080.
const lbs = ofType("AWS::ElasticLoadBalancingV2::LoadBalancer");
check("one network load balancer", lbs.length === 1 && lbs[0].Type === "network", lbs.map((l) => l.Type));
const listenerPorts = sortedNumbers(ofType("AWS::ElasticLoadBalancingV2::Listener").map((l) => l.Port));
check("NLB listeners 8554-8557 and 8080", same(listenerPorts, [8080, 8554, 8555, 8556, 8557]), listenerPorts);
const groups = ofType("AWS::ElasticLoadBalancingV2::TargetGroup");
check("five target groups", groups.length === 5, groups.length);
for (const g of groups) {
  const name = `target group :${g.Port}`;
  check(`${name} is TCP to ip targets`, g.Protocol === "TCP" && g.TargetType === "ip", [g.Protocol, g.TargetType]);
  check(`${name} health check is HTTP GET /health on 8080`,
        g.HealthCheckProtocol === "HTTP" && g.HealthCheckPort === "8080" && g.HealthCheckPath === "/health",
        [g.HealthCheckProtocol, g.HealthCheckPort, g.HealthCheckPath]);
  check(`${name} healthy only on 200`, same(g.Matcher, { HttpCode: "200" }), g.Matcher);
  const delay = (g.TargetGroupAttributes || []).find((a) => a.Key === "deregistration_delay.timeout_seconds");
  check(`${name} deregistration delay shortened`, delay && Number(delay.Value) <= 30, delay);
}
const loadBalancers = sortedNumbers((service.LoadBalancers || []).map((l) => l.ContainerPort));
check("service registered on every forwarded port", same(loadBalancers, [8080, 8554, 8555, 8556, 8557]), loadBalancers);

// --- Logs kept for a bounded time.
const logGroups = ofType("AWS::Logs::LogGroup");
check("log group with retention", logGroups.length === 1 && logGroups[0].RetentionInDays > 0, logGroups);

for (const f of failures) console.error(`FAIL ${f}`);
console.log(`check-template: ${passed} passed, ${failures.length} failed`);
process.exit(failures.length === 0 ? 0 : 1);

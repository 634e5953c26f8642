// Every `aws ...` command in docs/operations.md names what the stack creates:
// a cluster, service, log group, container, task family, target group, alarm
// or stack name is either the synthesized template's own, or a shell variable
// the doc sets from `aws cloudformation describe-stacks --query` on an output
// the template has.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";

import { STACK_ID } from "../lib/rtsp-test-server-stack";
import { CDK_DIR, Json, only, resources, synth } from "./helpers";

const DOC = path.join(CDK_DIR, "..", "..", "..", "docs", "operations.md");

// ---------------------------------------------------------------------------
// Reading the shell in the doc.

export interface ShellLine {
  readonly text: string;
  /** Inline code in prose: a command may be shown in part (`aws logs tail`, `--task-definition …`). */
  readonly inline: boolean;
}

/** The doc's shell: fenced bash/sh blocks (continuation lines joined) and inline `aws ...` spans. */
export function shellLines(markdown: string): ShellLine[] {
  const lines: ShellLine[] = [];
  for (const m of markdown.matchAll(/^```(?:bash|sh|shell)\s*\n([\s\S]*?)^```/gm)) {
    lines.push(...m[1].replace(/\\\n/g, " ").split("\n").map((text) => ({ text, inline: false })));
  }
  // Inline code in prose may wrap onto the next line.
  for (const m of markdown.matchAll(/`(aws [^`]+)`/g)) lines.push({ text: m[1].replace(/\s*\n\s*/g, " "), inline: true });
  return lines.filter((l) => l.text.trim() !== "");
}

const SEPARATOR = Symbol("separator");
type Token = string | typeof SEPARATOR;

/** Splits a shell line into words (quotes removed), with command boundaries as SEPARATOR. */
export function tokenize(line: string): Token[] {
  const out: Token[] = [];
  let word: string | undefined;
  const flush = () => {
    if (word !== undefined) out.push(word);
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === "'" || ch === '"') {
      const end = line.indexOf(ch, i + 1);
      if (end < 0) throw new Error(`unbalanced ${ch} in: ${line}`);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (/\s/.test(ch)) {
      flush();
    } else if (ch === "#" && word === undefined) {
      break; // a comment
    } else if (ch === "$" && line[i + 1] === "(") {
      if (word !== undefined && word.endsWith("=")) {
        out.push(word); // an assignment: NAME=$(...)
        word = undefined;
      }
      flush();
      out.push(SEPARATOR);
      i++;
    } else if (ch === ")" || ch === ";" || ch === "|" || ch === "&") {
      flush();
      out.push(SEPARATOR);
    } else {
      word = (word ?? "") + ch;
    }
  }
  flush();
  return out;
}

export interface AwsCommand {
  readonly text: string;
  readonly service: string;
  readonly operation: string;
  readonly positional: string[];
  readonly options: Map<string, string[]>;
  /** NAME when the doc writes NAME=$(aws ...). */
  readonly assignedTo?: string;
  readonly inline: boolean;
}

export function awsCommands(lines: ShellLine[]): AwsCommand[] {
  const commands: AwsCommand[] = [];
  for (const line of lines) {
    const tokens = tokenize(line.text);
    for (let i = 0; i < tokens.length; i++) {
      const atStart = i === 0 || tokens[i - 1] === SEPARATOR;
      if (tokens[i] !== "aws" || !atStart) continue;
      const prev2 = i >= 2 ? tokens[i - 2] : undefined;
      const assignedTo = typeof prev2 === "string" && /^[A-Z_][A-Z0-9_]*=$/.test(prev2) ? prev2.slice(0, -1) : undefined;
      let j = i + 1;
      const words: string[] = [];
      while (j < tokens.length && tokens[j] !== SEPARATOR) words.push(tokens[j++] as string);
      const [service, operation, ...rest] = words;
      const positional: string[] = [];
      const options = new Map<string, string[]>();
      let current: string[] | undefined;
      for (const w of rest) {
        if (w.startsWith("--")) {
          const eq = w.indexOf("=");
          const name = eq < 0 ? w : w.slice(0, eq);
          current = [];
          options.set(name, current);
          if (eq >= 0) current.push(w.slice(eq + 1));
        } else if (current) {
          current.push(w);
        } else {
          positional.push(w);
        }
      }
      commands.push({ text: `aws ${words.join(" ")}`, service, operation, positional, options, assignedTo, inline: line.inline });
      i = j;
    }
  }
  return commands;
}

// ---------------------------------------------------------------------------
// The names the stack creates.

interface StackNames {
  cluster: string;
  service: string;
  logGroup: string;
  container: string;
  family: string;
  streamPrefix: string;
  targetGroups: Set<string>;
  alarms: string[];
  outputs: Set<string>;
  /** What each output stands for (a name, or "targetgroup:<logical id>"). */
  outputValue: (key: string) => string;
}

export function stackNames(json: Json): StackNames {
  const [, task] = only(json, "AWS::ECS::TaskDefinition");
  const c = task.ContainerDefinitions[0];
  const byId = json.Resources as Record<string, Json>;
  const logGroupId = c.LogConfiguration.Options["awslogs-group"].Ref;
  const nameOf = (id: string): string => {
    const r = byId[id];
    switch (r?.Type) {
      case "AWS::ECS::Cluster":
        return r.Properties.ClusterName;
      case "AWS::ECS::Service":
        return r.Properties.ServiceName;
      case "AWS::Logs::LogGroup":
        return r.Properties.LogGroupName;
      case "AWS::ECS::TaskDefinition":
        return r.Properties.Family;
      case "AWS::ElasticLoadBalancingV2::TargetGroup":
        return `targetgroup:${id}`;
      default:
        return `resource:${id}`;
    }
  };
  return {
    cluster: only(json, "AWS::ECS::Cluster")[1].ClusterName,
    service: only(json, "AWS::ECS::Service")[1].ServiceName,
    logGroup: byId[logGroupId].Properties.LogGroupName,
    container: c.Name,
    family: task.Family,
    streamPrefix: `${c.LogConfiguration.Options["awslogs-stream-prefix"]}/${c.Name}/`,
    targetGroups: new Set(resources(json, "AWS::ElasticLoadBalancingV2::TargetGroup").map(([id]) => `targetgroup:${id}`)),
    alarms: resources(json, "AWS::CloudWatch::Alarm").map(([, a]) => a.AlarmName),
    outputs: new Set(Object.keys(json.Outputs)),
    outputValue: (key) => {
      const v = json.Outputs[key]?.Value;
      const id = v?.Ref ?? v?.["Fn::GetAtt"]?.[0];
      return typeof id === "string" ? nameOf(id) : `output:${key}`;
    },
  };
}

// ---------------------------------------------------------------------------
// The check.

/** ECS operations that act on a service's cluster: without --cluster they would ask "default". */
const NEEDS_CLUSTER = new Set([
  "describe-services",
  "update-service",
  "list-tasks",
  "describe-tasks",
  "stop-task",
  "execute-command",
  "list-services",
]);

export function checkDoc(markdown: string, names: StackNames): { commands: AwsCommand[]; problems: string[] } {
  const commands = awsCommands(shellLines(markdown));
  const problems: string[] = [];
  const variables = new Map<string, string>(); // NAME -> output key

  // Pass 1: NAME=$(aws cloudformation describe-stacks ... OutputKey=='X' ...).
  for (const cmd of commands) {
    if (cmd.service !== "cloudformation" || cmd.operation !== "describe-stacks") continue;
    const query = (cmd.options.get("--query") ?? []).join(" ");
    const keys = [...query.matchAll(/OutputKey\s*==\s*`?'?([A-Za-z0-9]+)'?`?/g)].map((m) => m[1]);
    for (const k of keys) {
      if (!names.outputs.has(k)) problems.push(`${cmd.text}: the stack has no output ${k}`);
    }
    if (cmd.assignedTo !== undefined) {
      if (keys.length !== 1) problems.push(`${cmd.text}: ${cmd.assignedTo} should be set from exactly one output`);
      else variables.set(cmd.assignedTo, keys[0]);
    }
  }

  const expand = (cmd: AwsCommand, value: string): string =>
    value.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, v: string) => {
      const key = variables.get(v);
      if (key === undefined) {
        problems.push(`${cmd.text}: $${v} is not set from a stack output in this file`);
        return `<unset ${v}>`;
      }
      return names.outputValue(key);
    });

  const expect = (cmd: AwsCommand, what: string, values: string[] | undefined, ok: (v: string) => boolean) => {
    for (const raw of values ?? []) {
      if (cmd.inline && /^(…|\.\.\.)$/.test(raw)) continue; // prose: "--task-definition …"
      const v = expand(cmd, raw);
      if (!ok(v)) problems.push(`${cmd.text}: ${what} ${JSON.stringify(raw)} is not the stack's (${JSON.stringify(v)})`);
    }
  };

  for (const cmd of commands) {
    const o = (name: string) => cmd.options.get(name);
    if (cmd.service === "ecs" && NEEDS_CLUSTER.has(cmd.operation) && !o("--cluster") && !cmd.inline) {
      problems.push(`${cmd.text}: no --cluster (the CLI would use the cluster named "default")`);
    }
    expect(cmd, "--cluster", o("--cluster"), (v) => v === names.cluster);
    for (const opt of ["--service", "--services", "--service-name"]) {
      expect(cmd, opt, o(opt), (v) => v === names.service);
    }
    expect(cmd, "--log-group-name", o("--log-group-name"), (v) => v === names.logGroup);
    if (cmd.service === "logs" && cmd.operation === "tail") {
      expect(cmd, "log group", cmd.positional.slice(0, 1), (v) => v === names.logGroup);
      if (cmd.positional.length === 0 && !cmd.inline) problems.push(`${cmd.text}: no log group`);
    }
    expect(cmd, "--log-stream-name-prefix", o("--log-stream-name-prefix"), (v) => v.startsWith(names.streamPrefix));
    expect(cmd, "--container", o("--container"), (v) => v === names.container);
    expect(cmd, "--task-definition", o("--task-definition"), (v) => v.split(":")[0] === names.family);
    expect(cmd, "--family-prefix", o("--family-prefix"), (v) => v === names.family);
    for (const opt of ["--target-group-arn", "--target-group-arns"]) {
      expect(cmd, opt, o(opt), (v) => names.targetGroups.has(v));
    }
    expect(cmd, "--stack-name", o("--stack-name"), (v) => v === STACK_ID);
    expect(cmd, "--alarm-name-prefix", o("--alarm-name-prefix"), (v) => names.alarms.some((a) => a.startsWith(v)));
    for (const opt of ["--alarm-name", "--alarm-names"]) {
      expect(cmd, opt, o(opt), (v) => names.alarms.includes(v));
    }
  }
  return { commands, problems };
}

// ---------------------------------------------------------------------------

test("every aws command in docs/operations.md uses a name the stack creates or outputs", () => {
  const markdown = fs.readFileSync(DOC, "utf8");
  const { commands, problems } = checkDoc(markdown, stackNames(synth().json));
  assert.deepEqual(problems, []);
  // The parser found the runbook's commands (not an empty pass).
  assert.ok(commands.length >= 30, `only ${commands.length} aws commands found`);
  for (const op of ["describe-services", "update-service", "describe-target-health", "tail", "describe-alarms", "list-task-definitions"]) {
    assert.ok(commands.some((c) => c.operation === op), `no aws ... ${op} in the doc`);
  }
});

test("the check catches names the stack does not have", () => {
  const names = stackNames(synth().json);
  const bad = [
    "```bash",
    "aws ecs update-service --cluster default-cluster --service rtsp-test-server --force-new-deployment",
    "aws ecs describe-services --services rtsp-test-server",
    "aws logs tail /ecs/other --follow",
    "aws elbv2 describe-target-health --target-group-arn <target-group-arn>",
    "X=$(aws cloudformation describe-stacks --stack-name RtspTestServer --query \"Stacks[0].Outputs[?OutputKey=='Nope'].OutputValue\" --output text)",
    'aws ecs stop-task --cluster "$UNSET" --task <task-arn>',
    "aws cloudwatch describe-alarms --alarm-name-prefix other-",
    "aws ecs execute-command --cluster rtsp-cluster --task <task-id> --container app --interactive --command /bin/sh",
    "```",
  ].join("\n");
  const { problems } = checkDoc(bad, names);
  for (const expected of [
    /--cluster "default-cluster"/,
    /describe-services --services rtsp-test-server: no --cluster/,
    /log group "\/ecs\/other"/,
    /--target-group-arn "<target-group-arn>"/,
    /no output Nope/,
    /\$UNSET is not set/,
    /--alarm-name-prefix "other-"/,
    /--container "app"/,
  ]) {
    assert.ok(problems.some((p) => expected.test(p)), `${expected} not reported in:\n${problems.join("\n")}`);
  }
  // And accepts the stack's names written out, and variables from outputs.
  const good = [
    "```bash",
    "CLUSTER=$(aws cloudformation describe-stacks --stack-name RtspTestServer --query \"Stacks[0].Outputs[?OutputKey=='ClusterName'].OutputValue\" --output text)",
    "TG=$(aws cloudformation describe-stacks --stack-name RtspTestServer --query \"Stacks[0].Outputs[?OutputKey=='TargetGroupArn8556'].OutputValue\" --output text)",
    'aws ecs update-service --cluster "$CLUSTER" --service rtsp-test-server --task-definition rtsp-test-server:7  # comment --cluster x',
    'aws elbv2 describe-target-health --target-group-arn "$TG" | jq .',
    "aws logs tail /ecs/rtsp-test-server --log-stream-name-prefix rtsp/rtsp-test-server/<task-id>",
    "```",
  ].join("\n");
  assert.deepEqual(checkDoc(good, names).problems, []);
});

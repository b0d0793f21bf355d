// Test servers: `ninefold serve` (memory and passthrough) and diod, each
// started by the test on a fresh socket/port and stopped after it.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The package directory (tests run from build/test/). */
export const pkgDir = resolve(fileURLToPath(new URL("../../", import.meta.url)));

/** The `ninefold` binary: $NINEFOLD_BIN, else the workspace's release build. */
export function ninefoldBin(): string {
  const bin = process.env.NINEFOLD_BIN
    ?? join(process.env.CARGO_TARGET_DIR ?? resolve(pkgDir, "../../target"), "release", "ninefold");
  if (!existsSync(bin)) throw new Error(`no ninefold binary at ${bin} (cargo build --release -p ninefold-cli, or set NINEFOLD_BIN)`);
  return bin;
}

export interface Server {
  /** What Client.connect takes. */
  target: string;
  /** The aname to attach (diod: its export). */
  aname?: string;
  /** The exported host directory (passthrough, diod), if any. */
  dir?: string;
  /** Prometheus metrics (ninefold serve only). */
  metricsUrl?: string;
  name: string;
  /** Everything the server printed so far. */
  log(): string;
  stop(): Promise<void>;
}

function waitLine(child: ChildProcess, re: RegExp, ms: number): Promise<RegExpMatchArray> {
  return new Promise((res, rej) => {
    let buf = "";
    const timer = setTimeout(() => rej(new Error(`server did not print ${re} within ${ms} ms:\n${buf}`)), ms);
    const on = (d: Buffer) => {
      buf += d.toString();
      const m = buf.match(re);
      if (m) {
        clearTimeout(timer);
        res(m);
      }
    };
    child.stdout?.on("data", on);
    child.stderr?.on("data", on);
    child.once("exit", (code) => {
      clearTimeout(timer);
      rej(new Error(`server exited (${code}) before ready:\n${buf}`));
    });
  });
}

function collect(child: ChildProcess): () => string {
  const chunks: string[] = [];
  // eslint-disable-next-line no-control-regex
  const strip = (d: Buffer) => chunks.push(d.toString().replace(/\x1b\[[0-9;]*m/g, ""));
  child.stdout?.on("data", strip);
  child.stderr?.on("data", strip);
  return () => chunks.join("");
}

function stopper(child: ChildProcess, cleanup: () => void): () => Promise<void> {
  return () =>
    new Promise((res) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        cleanup();
        res();
        return;
      }
      child.once("exit", () => {
        cleanup();
        res();
      });
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 3000).unref();
    });
}

/** `ninefold serve` over a fresh unix socket, memory or passthrough, with metrics. */
export async function startNinefold(kind: "memory" | "passthrough", log = "warn"): Promise<Server> {
  const tmp = mkdtempSync(join(tmpdir(), "ninefold-node-"));
  const sock = join(tmp, "9p.sock");
  const args = ["serve", "-l", `unix:${sock}`, "--metrics", "127.0.0.1:0", "--log", log];
  let dir: string | undefined;
  if (kind === "memory") args.push("--memory");
  else {
    dir = join(tmp, "export");
    spawnSync("mkdir", ["-p", dir]);
    args.push(dir);
  }
  const child = spawn(ninefoldBin(), args, { stdio: ["ignore", "pipe", "pipe"] });
  const out = collect(child);
  const m = await waitLine(child, /metrics on (http:\/\/\S+\/metrics)/, 15000);
  for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
  return {
    name: `ninefold serve (${kind})`,
    target: `unix:${sock}`,
    dir,
    metricsUrl: m[1],
    log: out,
    stop: stopper(child, () => rmSync(tmp, { recursive: true, force: true })),
  };
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

/** Whether diod is installed (scripts/test-node.sh installs it). */
export function haveDiod(): boolean {
  return spawnSync("sh", ["-c", "command -v diod"]).status === 0;
}

/** diod (no auth) exporting a fresh directory on a free loopback port. */
export async function startDiod(): Promise<Server> {
  const tmp = mkdtempSync(join(tmpdir(), "ninefold-node-diod-"));
  const port = await freePort();
  const child = spawn(
    "diod",
    ["-f", "-n", "-l", `127.0.0.1:${port}`, "-e", tmp, "-L", "stderr", "-c", "/dev/null"],
    { stdio: ["ignore", "pipe", "pipe"], cwd: tmp },
  );
  // diod prints nothing when ready: poll the port.
  const { connect } = await import("node:net");
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((res) => {
      const c = connect(port, "127.0.0.1");
      c.once("connect", () => {
        c.destroy();
        res(true);
      });
      c.once("error", () => res(false));
    });
    if (ok) break;
    if (i > 200 || child.exitCode !== null) throw new Error("diod did not start");
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    name: "diod",
    target: `tcp://127.0.0.1:${port}`,
    aname: tmp,
    dir: tmp,
    log: collect(child),
    stop: stopper(child, () => rmSync(tmp, { recursive: true, force: true })),
  };
}

/** One Prometheus sample (summed over label sets matching `labels`). */
export async function metric(server: Server, name: string, labels = ""): Promise<number> {
  if (!server.metricsUrl) throw new Error(`${server.name} has no metrics`);
  const text = await (await fetch(server.metricsUrl)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/);
    if (!m || m[1] !== name) continue;
    if (labels && !(m[2] ?? "").includes(labels)) continue;
    sum += Number(m[3]);
  }
  return sum;
}

/** Polls `f` until it returns true (or fails after `ms`). */
export async function eventually(f: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Starts and stops a real sluice-broker for the SDK tests: free ports, a
// temporary data directory, readiness by the HTTP port accepting, and a
// SIGTERM at the end whose exit status the caller checks.
//
// The binary comes from SLUICE_BROKER_BIN (CTest passes the built target), or
// from build/broker/sluice-broker beside the source tree.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const brokerBin =
  process.env.SLUICE_BROKER_BIN ?? path.resolve(here, "../../../build/broker/sluice-broker");

// How long a broker may take to open its ports, and to exit after SIGTERM.
const START_DEADLINE_MS = 20_000;
const STOP_DEADLINE_MS = 20_000;
// The broker's output kept for failure messages (the tail matters most).
const OUTPUT_KEEP_CHARS = 20_000;

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor(probe, { timeoutMs = 10_000, intervalMs = 50, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A TCP port that was free a moment ago (bound to port 0, then closed). */
export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address();
  srv.close();
  await once(srv, "close");
  return port;
}

function portAccepts(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

export class Broker {
  /**
   * @param {object} opts
   * @param {string[]} [opts.extraArgs] more command-line flags
   * @param {string} [opts.credentials] contents of an AWS shared-credentials file
   */
  constructor({ extraArgs = [], credentials } = {}) {
    this.extraArgs = extraArgs;
    this.credentials = credentials;
    this.output = "";
  }

  async start() {
    this.dataRoot = mkdtempSync(path.join(os.tmpdir(), "sluice-node-"));
    this.httpPort = await freePort();
    this.zmqPort = await freePort();
    this.metricsPort = await freePort();
    const args = [
      "--listen", `tcp://127.0.0.1:${this.zmqPort}`,
      "--metrics-listen", `127.0.0.1:${this.metricsPort}`,
      "--http-listen", `127.0.0.1:${this.httpPort}`,
      "--data-dir", path.join(this.dataRoot, "data"),
      "--fsync", "never",
      ...this.extraArgs,
    ];
    if (this.credentials !== undefined) {
      const file = path.join(this.dataRoot, "credentials");
      writeFileSync(file, this.credentials);
      args.push("--credentials", file);
    }
    this.proc = spawn(brokerBin, args, { stdio: ["ignore", "pipe", "pipe"] });
    const keep = (chunk) => {
      this.output = (this.output + chunk.toString()).slice(-OUTPUT_KEEP_CHARS);
    };
    this.proc.stdout.on("data", keep);
    this.proc.stderr.on("data", keep);
    this.exited = once(this.proc, "exit");
    let exitedEarly = false;
    this.exited.then(() => (exitedEarly = true));
    try {
      await waitFor(async () => exitedEarly || (await portAccepts(this.httpPort)), {
        timeoutMs: START_DEADLINE_MS,
        what: `the broker's HTTP port ${this.httpPort}`,
      });
    } catch (e) {
      this.proc.kill("SIGKILL");
      throw new Error(`${e.message}\nbroker output:\n${this.output}`);
    }
    if (exitedEarly) {
      throw new Error(`the broker exited at start (${this.proc.exitCode}):\n${this.output}`);
    }
    this.endpoint = `http://127.0.0.1:${this.httpPort}`;
    return this;
  }

  /** SIGTERM; resolves to the exit code (null if killed by a signal). */
  async stop() {
    if (!this.proc) return null;
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), STOP_DEADLINE_MS);
    const [code, signal] = await this.exited;
    clearTimeout(timer);
    rmSync(this.dataRoot, { recursive: true, force: true });
    this.exitSignal = signal;
    return code;
  }

  async metrics() {
    const res = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`);
    return res.text();
  }
}

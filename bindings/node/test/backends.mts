// The servers every API test runs against. diod is required unless
// NINEFOLD_NODE_SKIP_DIOD=1 (then the skip is printed).
import { Client } from "ninefold";
import { haveDiod, startDiod, startNinefold, type Server } from "./servers.mjs";

export interface Backend {
  name: string;
  start(): Promise<Server>;
}

export const skipDiod = process.env.NINEFOLD_NODE_SKIP_DIOD === "1";

export const backends: Backend[] = [
  { name: "ninefold serve (memory)", start: () => startNinefold("memory") },
  { name: "ninefold serve (passthrough)", start: () => startNinefold("passthrough") },
];
if (skipDiod) {
  console.log("# SKIPPED: diod backend (NINEFOLD_NODE_SKIP_DIOD=1)");
} else {
  if (!haveDiod()) throw new Error("diod is not installed (apt-get install -y diod), or set NINEFOLD_NODE_SKIP_DIOD=1");
  backends.push({ name: "diod", start: startDiod });
}

export async function connect(s: Server): Promise<Client> {
  return s.aname ? Client.connect_with(s.target, { aname: s.aname }) : Client.connect(s.target);
}

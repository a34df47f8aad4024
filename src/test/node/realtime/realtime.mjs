// The official openai SDK's realtime client, unchanged, through the sidecar: run by clients/OpenAiRealtimeSdkTest.
// AIGATE_URL (http://127.0.0.1:<port>), AIGATE_KEY (a subscription key), DEPLOYMENT. Prints one JSON line per client.
import net from "node:net";
import { AzureOpenAI, OpenAI } from "openai";
import { OpenAIRealtimeWS } from "openai/realtime/ws";

const base = process.env.AIGATE_URL;
const key = process.env.AIGATE_KEY;
const deployment = process.env.DEPLOYMENT;
// the SDK always opens wss: URLs; the sidecar speaks plain HTTP on loopback, so the socket is a plain one to it
const plain = { createConnection: (o) => net.connect({ host: o.host, port: Number(o.port) }) };

function session(rt, name) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(name + ": no response.done in 10 s")), 10000);
    let text = "";
    rt.on("error", (err) => { clearTimeout(timer); reject(new Error(name + ": " + (err.message ?? err))); });
    rt.on("session.created", () => rt.send({ type: "response.create", response: { max_output_tokens: 50 } }));
    rt.on("response.output_text.delta", (e) => { text += e.delta; });
    rt.on("response.done", (e) => {
      clearTimeout(timer);
      rt.close();
      resolve({ client: name, text, usage: e.response.usage });
    });
  });
}

const v1 = new OpenAIRealtimeWS(
  { model: deployment, options: plain },
  new OpenAI({ baseURL: base + "/openai/v1", apiKey: key }),
);
console.log(JSON.stringify(await session(v1, "OpenAI")));
const azure = await OpenAIRealtimeWS.azure(
  new AzureOpenAI({ endpoint: base, apiKey: key, apiVersion: "2025-04-01-preview", deployment }),
  { options: plain },
);
console.log(JSON.stringify(await session(azure, "AzureOpenAI")));

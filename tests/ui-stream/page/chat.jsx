// A minimal chat page as an AI SDK user writes one: useChat from @ai-sdk/react with resume: true,
// DefaultChatTransport pointed at /api/v1/chat. The chat id and the access token come from the URL,
// so a reload keeps both. The stop button asks the API to stop the reply, then stops reading: on
// Lambda a closed fetch stops nothing (docs/api.md). Bundled by the browser test with esbuild.
import { useChat } from "@ai-sdk/react";
import { DefaultChatTransport } from "ai";
import { useState } from "react";
import { createRoot } from "react-dom/client";

const params = new URLSearchParams(location.search);
const api = "/api/v1";
const headers = { authorization: `Bearer ${params.get("token")}` };
const transport = new DefaultChatTransport({ api: `${api}/chat`, headers });

function Chat() {
  const { messages, sendMessage, status, stop, error } = useChat({ id: params.get("chat"), transport, resume: true });
  const [input, setInput] = useState("");
  const busy = status === "submitted" || status === "streaming";

  async function stopReply() {
    const last = messages.at(-1);
    if (last?.role === "assistant" && last.metadata?.conversation_id)
      await fetch(`${api}/conversations/${last.metadata.conversation_id}/messages/${last.id}/cancel`, { method: "POST", headers });
    await stop();
  }

  return (
    <main>
      <p id="status">{status}</p>
      {error && <p id="error">{error.message}</p>}
      <ol id="messages">
        {messages.map((m) => (
          <li key={m.id} data-id={m.id} data-role={m.role} data-stop={m.metadata?.stop_reason ?? ""}>
            {m.parts.map((p, i) =>
              p.type === "reasoning" ? (
                <pre key={i} className="reasoning">{p.text}</pre>
              ) : p.type === "text" ? (
                <p key={i} className="text">{p.text}</p>
              ) : null,
            )}
          </li>
        ))}
      </ol>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!input.trim()) return;
          sendMessage({ text: input });
          setInput("");
        }}
      >
        <input id="input" value={input} onChange={(e) => setInput(e.target.value)} />
        <button id="send" type="submit" disabled={busy}>Send</button>
        <button id="stop" type="button" onClick={stopReply} disabled={!busy}>Stop</button>
      </form>
    </main>
  );
}

createRoot(document.getElementById("root")).render(<Chat />);

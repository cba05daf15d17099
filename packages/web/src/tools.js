// Tools in the playground: a reply's tool calls and the results that answer them, shown collapsed like
// reasoning; one demo tool that runs in this browser (the time in a time zone); and the form where a
// person answers the calls of any other tool. The API calls a tool by streaming a `tool_use` block and
// ending the reply with stop_reason "tool_use"; the page answers with a send whose content is
// `tool_result` blocks (the API's native shape, after Anthropic's).
import { el, saved } from "./client.js";

/** The demo tool, in the shape a send's `tools` takes. */
export const DEMO_TOOL = {
  name: "get_time",
  description: "The current date and time in a time zone. Runs in the person's browser.",
  input_schema: {
    type: "object",
    properties: {
      timezone: {
        type: "string",
        description: "An IANA time zone name, such as Europe/Paris or America/New_York",
        // Also what a model that fills in defaults (the offline one does) asks for.
        default: "UTC",
      },
    },
    required: ["timezone"],
  },
};

/** Whether sends offer the demo tool (off until the person turns it on; remembered in this browser). */
export const demoTool = {
  get on() {
    return saved.get("demo-tool") === true;
  },
  set on(value) {
    saved.set("demo-tool", value ? true : null);
  },
};

/** Runs the demo tool: `{ content, is_error }`, as a tool_result carries it. */
export function runDemoTool(input) {
  const zone = input && typeof input === "object" ? input.timezone : undefined;
  if (typeof zone !== "string" || !zone.trim()) return { content: 'get_time needs "timezone": an IANA time zone name such as Europe/Paris.', is_error: true };
  try {
    const when = new Intl.DateTimeFormat("en-GB", { timeZone: zone, dateStyle: "full", timeStyle: "long" }).format(new Date());
    return { content: `${when} (${zone})`, is_error: false };
  } catch {
    return { content: `Unknown time zone "${zone}": use an IANA name such as Europe/Paris.`, is_error: true };
  }
}

/** A call's arguments as shown: pretty JSON, or the text as written when it is not JSON (a reply cut short). */
export function prettyInput(input) {
  if (typeof input === "string") {
    try {
      return JSON.stringify(JSON.parse(input), null, 2);
    } catch {
      return input;
    }
  }
  return JSON.stringify(input ?? {}, null, 2);
}

/** One tool call in a reply: "Called get_time", collapsed, its arguments inside. Streams its input live. */
export class ToolCallView {
  constructor({ id, name, input }) {
    this.call = { type: "tool_use", id, name, input: input ?? {} };
    this.root = el("details", "tool tool-call");
    this.root.dataset.toolUseId = id;
    this.summary = el("summary", null, `Called ${name}`);
    this.args = el("pre", "tool-args");
    this.root.append(this.summary, this.args);
    this.partial = "";
    this.done = input !== undefined;
    if (this.done) this.args.textContent = prettyInput(input);
  }

  /** While the model writes the arguments: the JSON text so far. */
  begin() {
    this.summary.textContent = `Calling ${this.call.name}…`;
  }
  addInput(text) {
    this.partial += text;
    this.args.textContent = this.partial;
  }
  end() {
    this.done = true;
    this.summary.textContent = `Called ${this.call.name}`;
    try {
      this.call.input = this.partial ? JSON.parse(this.partial) : {};
    } catch {
      this.call.input = this.partial;
    }
    this.args.textContent = prettyInput(this.call.input);
  }
}

/** One tool result on a user message: "Result from get_time" (or "Error from …"), collapsed. */
export function toolResultView(result, name) {
  const d = el("details", "tool tool-result" + (result.is_error ? " tool-error" : ""));
  d.dataset.toolUseId = result.tool_use_id;
  const what = name || "a tool";
  d.append(el("summary", null, `${result.is_error ? "Error" : "Result"} from ${what}`), el("pre", "tool-output", resultText(result.content)));
  return d;
}

/** A result's content as text: the API lists it as a string; a send may carry text blocks. */
export const resultText = (content) =>
  typeof content === "string" ? content : Array.isArray(content) ? content.map((b) => (b && b.text) || "").join("") : "";

let formSeq = 0;
/**
 * The form that answers a reply's calls: one box per call (the demo tool's filled in with what it
 * returned), a box to mark a result as an error, and Send results. `onSend(results)` gets the
 * tool_result blocks, in the calls' order.
 */
export function answerForm(calls, onSend) {
  const form = el("form", "tool-answer");
  const n = ++formSeq;
  form.setAttribute("aria-label", "Answer the tool calls");
  form.noValidate = true;
  form.append(el("p", "note", calls.length === 1 ? "The reply called a tool: send its result to continue." : "The reply called tools: send their results to continue."));
  const rows = calls.map((call, i) => {
    const id = `tool-answer-${n}-${i}`;
    const demo = call.name === DEMO_TOOL.name ? runDemoTool(call.input) : null;
    const label = el("label", null, `Result of ${call.name}`);
    label.htmlFor = id;
    const box = el("textarea");
    box.id = id;
    box.rows = 2;
    box.value = demo ? demo.content : "";
    const errorId = id + "-error";
    const check = el("input");
    check.type = "checkbox";
    check.id = errorId;
    check.checked = Boolean(demo && demo.is_error);
    const checkLabel = el("label", "tool-error-label", `${call.name} failed: send this as an error`);
    checkLabel.htmlFor = errorId;
    const errorRow = el("div", "tool-error-row");
    errorRow.append(check, checkLabel);
    const row = el("div", "tool-answer-row");
    row.append(label, box, errorRow);
    form.append(row);
    return { call, box, check };
  });
  const problem = el("p", "error");
  problem.setAttribute("role", "alert");
  const sendButton = el("button", "primary", calls.length === 1 ? "Send result" : "Send results");
  sendButton.type = "submit";
  form.append(problem, sendButton);
  form.onsubmit = (e) => {
    e.preventDefault();
    const empty = rows.find((r) => !r.box.value.trim());
    if (empty) {
      problem.textContent = `Type a result for ${empty.call.name} first.`;
      empty.box.setAttribute("aria-invalid", "true");
      return empty.box.focus();
    }
    problem.textContent = "";
    onSend(rows.map((r) => ({ type: "tool_result", tool_use_id: r.call.id, content: r.box.value, is_error: r.check.checked })));
  };
  return form;
}

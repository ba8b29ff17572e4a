// The daemon's approval request (window/showMessageRequest with Run / Review script / Cancel): shown as a
// notification with the estimate; "Review script" opens the script and asks again. The UI is injected,
// so this module has no `vscode` import and is unit-tested.

export interface MessageAction {
  title: string;
}

export interface MessageRequest {
  type: number;
  message: string;
  actions?: MessageAction[];
}

export interface ApprovalUi {
  /** Shows the message with these buttons; resolves to the clicked title, or undefined when dismissed. */
  ask(type: number, message: string, titles: string[]): Promise<string | undefined>;
  /** Opens the workflow script for review; false when it cannot be found. */
  openScript(path: string): Promise<boolean>;
}

export const RUN = "Run";
export const REVIEW = "Review script";
export const CANCEL = "Cancel";

export function isApproval(request: MessageRequest): boolean {
  const titles = (request.actions ?? []).map((a) => a.title);
  return titles.includes(RUN) && titles.includes(CANCEL);
}

/**
 * The script a message talks about: the first `.py`/`.js`/`.mjs` path in it (backquoted, quoted or bare).
 * The daemon names the script on a line of its own: "Script: `/ws/.claude/workflows/review.py`".
 */
export function scriptPathIn(message: string): string | undefined {
  const patterns = [/Script:\s*`([^`\n]+)`/, /`([^`\n]+\.(?:py|m?js))`/, /"([^"\n]+\.(?:py|m?js))"/, /((?:[A-Za-z]:)?[\w./\\~@+-]*[\w-]\.(?:py|m?js))\b/];
  for (const pattern of patterns) {
    const match = pattern.exec(message);
    if (match) return match[1];
  }
  return undefined;
}

/**
 * Answers one showMessageRequest. For an approval, "Review script" is handled here when the script can
 * be opened (then the question is asked again); otherwise the daemon gets the answer unchanged.
 */
export async function answerMessageRequest(request: MessageRequest, ui: ApprovalUi): Promise<MessageAction | null> {
  const actions = request.actions ?? [];
  const titles = actions.map((a) => a.title);
  const pick = (title: string | undefined): MessageAction | null => actions.find((a) => a.title === title) ?? null;
  if (!isApproval(request)) return pick(await ui.ask(request.type, request.message, titles));

  const script = scriptPathIn(request.message);
  for (;;) {
    const choice = await ui.ask(request.type, request.message, titles);
    if (choice !== REVIEW || !script) return pick(choice);
    if (!(await ui.openScript(script))) return pick(choice);
  }
}

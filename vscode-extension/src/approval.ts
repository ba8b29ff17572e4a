// The daemon's approval request (window/showMessageRequest with Run / Details / Always run / Cancel): a
// one-line notification with the estimate. "Details" opens the details panel (details.ts), whose Run / Always
// run / Cancel answer the request instead of asking again; an earlier daemon's "Review script" opens the script
// and asks again. The UI is injected, so this module has no `vscode` import and is unit-tested.

export interface MessageAction {
  title: string;
}

export interface MessageRequest {
  type: number;
  message: string;
  actions?: MessageAction[];
}

/** Shows an approval's details and resolves with the title the user picked there (one of `titles`, or Cancel
 * when the panel was closed); undefined when the details cannot be shown (the daemon then shows its own page). */
export type DetailsHandler = (id: string, titles: string[]) => Promise<string | undefined>;

export interface ApprovalUi {
  /** Shows the message with these buttons; resolves to the clicked title, or undefined when dismissed. */
  ask(type: number, message: string, titles: string[]): Promise<string | undefined>;
  /** Opens the workflow script for review; false when it cannot be found. */
  openScript(path: string): Promise<boolean>;
  /** The details panel; default: the handler registered with setDetailsHandler. */
  details?: DetailsHandler;
}

export const RUN = "Run";
export const DETAILS = "Details";
export const REVIEW = "Review script";
export const CANCEL = "Cancel";

let registered: DetailsHandler | undefined;

/** The details panel the extension registers at activation (details.ts); undefined unregisters it. */
export function setDetailsHandler(handler: DetailsHandler | undefined): void {
  registered = handler;
}

export function isApproval(request: MessageRequest): boolean {
  const titles = (request.actions ?? []).map((a) => a.title);
  return titles.includes(RUN) && titles.includes(CANCEL);
}

const DETAILS_ID = /\n?\(details: ([A-Za-z0-9_-]+)\)\s*$/;

/** The id of the question's details: the daemon ends the message with `(details: ID)`. */
export function detailsIdIn(message: string): string | undefined {
  return DETAILS_ID.exec(message)?.[1];
}

/** The message as the user sees it: without the details id, which only the extension needs. */
export function displayText(message: string): string {
  return message.replace(DETAILS_ID, "").trimEnd();
}

/**
 * The script a message talks about: the first `.py`/`.js`/`.mjs` path in it (backquoted, quoted or bare).
 * Earlier daemons name the script on a line of its own: "Script: `/ws/.claude/workflows/review.py`".
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
 * Answers one showMessageRequest. For an approval, "Details" is handled here when the panel can show it (its
 * choice is the answer), and "Review script" when the script can be opened (then the question is asked again);
 * otherwise the daemon gets the answer unchanged.
 */
export async function answerMessageRequest(request: MessageRequest, ui: ApprovalUi): Promise<MessageAction | null> {
  const actions = request.actions ?? [];
  const titles = actions.map((a) => a.title);
  const pick = (title: string | undefined): MessageAction | null => actions.find((a) => a.title === title) ?? null;
  if (!isApproval(request)) return pick(await ui.ask(request.type, request.message, titles));

  const id = detailsIdIn(request.message);
  const shown = displayText(request.message);
  // only an earlier daemon names the script ("Script: …"); a warning line may name other files (+stats.py)
  const script = /\bScript:/.test(shown) ? scriptPathIn(shown) : undefined;
  const details = ui.details ?? registered;
  for (;;) {
    const choice = await ui.ask(request.type, shown, titles);
    if (choice === DETAILS && id && details) {
      const decided = await details(id, titles.filter((t) => t !== DETAILS));
      // no panel: the daemon shows its Markdown page and asks again
      return decided === undefined ? pick(DETAILS) : pick(decided) ?? pick(CANCEL);
    }
    if (choice !== REVIEW || !script) return pick(choice);
    if (!(await ui.openScript(script))) return pick(choice);
  }
}

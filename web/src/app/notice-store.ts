import { NOTICE_VISIBLE_MS } from "../protocol/timing.js";

/** One message shown to the user for a while. */
export interface Notice {
  id: number;
  kind: "error" | "info";
  text: string;
  /** How many times the same text was raised while visible. */
  count: number;
}

/**
 * The visible messages: repeats of a visible text are counted instead of stacked, and each
 * disappears NOTICE_VISIBLE_MS after its last repeat.
 */
export class NoticeStore {
  private notices: Notice[] = [];
  private nextId = 1;
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();

  constructor(private readonly onChange: (notices: readonly Notice[]) => void) {}

  /** Shows `text`, or counts a repeat of it. */
  push(kind: Notice["kind"], text: string): void {
    const existing = this.notices.find((n) => n.text === text);
    const notice = existing ? { ...existing, count: existing.count + 1 } : { id: this.nextId++, kind, text, count: 1 };
    this.notices = existing ? this.notices.map((n) => (n.id === notice.id ? notice : n)) : [...this.notices.slice(-3), notice];
    clearTimeout(this.timers.get(notice.id));
    this.timers.set(notice.id, setTimeout(() => this.dismiss(notice.id), NOTICE_VISIBLE_MS));
    this.onChange(this.notices);
  }

  /** Hides a notice now. */
  dismiss(id: number): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    this.notices = this.notices.filter((n) => n.id !== id);
    this.onChange(this.notices);
  }
}

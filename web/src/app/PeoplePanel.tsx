import { useEffect, useState } from "preact/hooks";
import { MAX_NAME_LENGTH } from "../../../protocol/limits.js";
import { cleanName } from "./name-storage.js";

/** Props of PeoplePanel. */
export interface PeoplePanelProps {
  name: string;
  onRename: (name: string) => void;
  online: number;
  names: readonly string[];
  /** True while not live: the list is the last one known and is shown dimmed. */
  stale: boolean;
}

/** The user's own name (editable) and who else is online. */
export function PeoplePanel({ name, onRename, online, names, stale }: PeoplePanelProps) {
  const [draft, setDraft] = useState(name);
  useEffect(() => setDraft(name), [name]);
  const commit = (): void => {
    const next = cleanName(draft);
    if (next !== "" && next !== name) onRename(next);
    else setDraft(name);
  };
  return (
    <section class="panel" aria-labelledby="people-heading">
      <h2 id="people-heading">You</h2>
      <form
        class="name-form"
        onSubmit={(e) => {
          e.preventDefault();
          commit();
          (document.activeElement as HTMLElement | null)?.blur();
        }}
      >
        <input
          type="text"
          value={draft}
          maxLength={MAX_NAME_LENGTH}
          aria-label="Your name"
          data-testid="name-input"
          autocomplete="nickname"
          onInput={(e) => setDraft((e.currentTarget as HTMLInputElement).value)}
          onBlur={commit}
        />
      </form>
      <h2 id="online-heading">
        Online <span class="count" data-testid="online-count">{online}</span>
        {stale && <span class="stale-note">last known</span>}
      </h2>
      <ul class={`people${stale ? " stale" : ""}`} data-testid="presence" aria-labelledby="online-heading">
        {names.map((n, i) => (
          <li key={`${n}-${i}`} class={n === name ? "me" : ""}>
            <span class="avatar" aria-hidden="true" style={{ background: `hsl(${hash(n) % 360} 65% 55%)` }}>
              {(n[0] ?? "?").toUpperCase()}
            </span>
            {n === "" ? "anonymous" : n}
          </li>
        ))}
        {online > names.length && <li class="more">and {online - names.length} more</li>}
      </ul>
    </section>
  );
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h;
}

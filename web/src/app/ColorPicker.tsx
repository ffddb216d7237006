/** The preset palette: a balanced 16-colour set that reads well on the dark page. */
export const PRESET_COLORS = [
  0x000000, 0xffffff, 0x8b8f98, 0x3b3f48, 0xe63946, 0xff7b25, 0xffd166, 0x7bd389,
  0x06a77d, 0x2ec4b6, 0x4895ef, 0x3a0ca3, 0x9b5de5, 0xf15bb5, 0x8d5a3b, 0xffc8a2,
] as const;

/** Formats 0xRRGGBB as #rrggbb. */
export function toHex(color: number): string {
  return `#${color.toString(16).padStart(6, "0")}`;
}

/** Props of ColorPicker. */
export interface ColorPickerProps {
  color: number;
  onChange: (color: number) => void;
}

/** Preset swatches plus a free colour input. */
export function ColorPicker({ color, onChange }: ColorPickerProps) {
  return (
    <section class="panel" aria-labelledby="colour-heading">
      <h2 id="colour-heading">Colour</h2>
      <div class="swatches" role="radiogroup" aria-label="Preset colours">
        {PRESET_COLORS.map((c) => (
          <button
            key={c}
            type="button"
            role="radio"
            aria-checked={c === color}
            aria-label={toHex(c)}
            data-testid={`swatch-${toHex(c).slice(1)}`}
            class={`swatch${c === color ? " selected" : ""}`}
            style={{ background: toHex(c) }}
            onClick={() => onChange(c)}
          />
        ))}
      </div>
      <label class="custom-colour">
        <input type="color" value={toHex(color)} data-testid="colour-input" onInput={(e) => onChange(parseInt((e.currentTarget as HTMLInputElement).value.slice(1), 16))} />
        <span>Custom</span>
        <code>{toHex(color)}</code>
      </label>
    </section>
  );
}

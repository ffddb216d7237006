import { fileURLToPath } from "node:url";
import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

/** The backend `vite dev` proxies to: the one-URL local entry (`npm start`). */
const backend = process.env.PIXEL_BACKEND ?? "http://localhost:3000";

// Run from the repository root (`vite build --config web/vite.config.ts`): root is web/, output web/dist.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [preact()],
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  server: {
    proxy: {
      "/api": { target: backend, changeOrigin: true },
      "/session": { target: backend, changeOrigin: true },
      "/ws": { target: backend.replace(/^http/, "ws"), ws: true },
    },
  },
});

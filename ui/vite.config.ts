import { defineConfig } from "vite";

// The UI is embedded in the Tauri app: relative asset paths, no inline scripts (the CSP allows
// only 'self'), and no module preload polyfill (it is an inline script).
export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});

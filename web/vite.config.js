import { defineConfig } from "vite";

// The app serves dist/ at / (see src/livesim/app/web.py); `npm run dev` proxies the API.
export default defineConfig({
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", sourcemap: false },
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
});

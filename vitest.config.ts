import { defineConfig } from "vitest/config";

// One suite: fast unit tests beside the code (*.test.ts), slower ones that start
// real processes (*.e2e.test.ts and tests/). `npm run test:fast` runs only the first kind.
export default defineConfig({
  test: {
    include: ["protocol/**/*.test.ts", "services/**/*.test.ts", "tools/**/*.test.ts", "web/**/*.test.ts", "bench/**/*.test.ts", "k8s/**/*.test.ts", "tests/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The machine has two cores and the e2e tests start many processes: keep files sequential.
    fileParallelism: false,
    reporters: ["default"],
  },
});

import { test as base } from "@playwright/test";
import { harness } from "./harness";

export { expect } from "@playwright/test";

// The server's address is known only once global setup has started it, so baseURL comes from the harness file.
export const test = base.extend({
  baseURL: async ({}, use) => {
    await use(harness().url);
  },
});

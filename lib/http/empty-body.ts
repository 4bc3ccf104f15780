import { z } from "zod";

/** Action routes take no body; anything sent is still checked, so stray fields are refused rather than ignored. */
export const emptyBodySchema = z.strictObject({});

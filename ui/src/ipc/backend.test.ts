import { describe, expect, it } from "vitest";
import { BackendError } from "./backend";

describe("BackendError.from", () => {
  it("keeps the code and field errors of Sundial's errors", () => {
    const e = BackendError.from({
      code: "invalid",
      message: "name: required",
      fields: [{ field: "name", message: "required" }],
    });
    expect(e.code).toBe("invalid");
    expect(e.fields).toEqual([{ field: "name", message: "required" }]);
  });

  it("turns Tauri's plain strings into internal errors", () => {
    const e = BackendError.from("create_job not allowed");
    expect(e.code).toBe("internal");
    expect(e.message).toBe("create_job not allowed");
    expect(e.fields).toEqual([]);
  });
});

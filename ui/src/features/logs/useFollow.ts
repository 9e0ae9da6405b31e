// Following a live run log: its new lines go into the line store as they come, the count of
// lines grows, and the viewer learns when the run ends.
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { LogSource } from "../../bindings/LogSource";
import { useBackend } from "../../ipc";
import { Follower } from "./follower";
import { type LineStore, viewKey } from "./lineStore";

const INFO_REFRESH_MS = 300;

export interface Follow {
  /** Lines the follower has seen (the log's length while it grows). */
  liveLines: number;
  /** The run ended while it was followed. */
  ended: boolean;
  error: string | null;
}

/** Follows `source` from line `followFrom` (null: not live, nothing to follow). `onStart`
 * runs when following begins (the viewer pins itself to the end). */
export function useFollow(source: LogSource, store: LineStore, followFrom: number | null, onStart: () => void): Follow {
  const backend = useBackend();
  const queryClient = useQueryClient();
  const [liveLines, setLiveLines] = useState(0);
  const [ended, setEnded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [follower] = useState(
    () =>
      new Follower(
        backend,
        {
          onStart,
          onLines: (lines) => {
            store.append(viewKey({ source }), lines);
            const last = (lines[lines.length - 1]?.number ?? -1) + 1;
            setLiveLines((n) => Math.max(n, last));
          },
          // With a stream filter the follower's line numbers say nothing about positions: ask
          // for the view's count again (and the file's size).
          onRefresh: () => void queryClient.invalidateQueries({ queryKey: ["logs", "info"] }),
          onDone: () => {
            setEnded(true);
            void queryClient.invalidateQueries({ queryKey: ["logs"] });
          },
          onError: (text) => setError(text),
        },
        INFO_REFRESH_MS,
      ),
  );
  useEffect(() => {
    follower.resume();
    return () => follower.stop();
  }, [follower]);
  useEffect(() => {
    if (source.kind === "run" && followFrom !== null) follower.start(source.run_id, followFrom);
  }, [follower, source, followFrom]);
  return { liveLines, ended, error };
}

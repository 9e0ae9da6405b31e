import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { withPaintReport } from "./bench";
import { parseRoute } from "./app/navigation";
import { initialScreen, tauriBackend } from "./ipc/tauri";
import "./index.css";

const root = document.getElementById("root");
if (!root) throw new Error("no #root element");
createRoot(root).render(
  <StrictMode>
    <App backend={withPaintReport(tauriBackend)} initialRoute={parseRoute(initialScreen()) ?? { screen: "jobs" }} />
  </StrictMode>,
);

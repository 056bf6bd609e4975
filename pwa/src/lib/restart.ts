// Starts the app again from `path` with a full page load: after signing out or closing the
// account no component, module or router state keeps what it showed before.
export function restartApp(path: string) {
  window.location.replace(path)
}

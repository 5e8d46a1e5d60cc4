// relevo's client. Its sources are the npm package's (clients/js/src, served
// under /relevo/): one client for pages, npm and Node. See docs/client-js.md.
export * from "./relevo/index.js";

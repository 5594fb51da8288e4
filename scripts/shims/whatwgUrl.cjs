// Stand-in for the `whatwg-url` package in the function bundles. node-fetch@2 (under the
// storage client) loads it only as a fallback for runtimes without a global URL
// (`Url.URL || whatwgUrl.URL`); Node has one, and the real package drags in 280 KB of
// Unicode tables (tr46) that would be parsed at every cold start.
module.exports = { URL: globalThis.URL, URLSearchParams: globalThis.URLSearchParams };

/** The REST API (issue 18): salt-api's rest_cherrypy interface, external auth and Salt's ACLs. */
export { startApiServer } from "./server.js";
export type { ApiServer, RawRoute } from "./server.js";
export type { ApiPorts, LocalCall, AgentReturn, EventFeed } from "./ports.js";
export { authCheck, specCheck, fillAuthList, exprMatch, isListed } from "./acl.js";
export type { TargetResolver } from "./acl.js";
export { Authenticator } from "./auth.js";
export type { Session, Credentials } from "./auth.js";
export { checkFilePassword, htpasswdMatch } from "./passwords.js";
export { pamAuthenticate, PAMTESTER } from "./pam.js";
export { maysee, JobCache } from "./events.js";
export { ldapLogin, escapeDnValue } from "./ldap.js";

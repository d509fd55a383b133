/** Builds what issuing needs from the school's settings (wired in app.ts). */
import type { AssignmentPercents } from './eligibility.ts';
import type { CertificateIssuer } from './certificates.service.ts';
import { loadSigningKey } from './signing.ts';

export interface IssuerSettings {
  dataDir: string;
  /** CERT_SIGNING_KEY; when unset, a key kept in DATA_DIR. */
  signingKey?: string;
  /** The school's address as people reach it (APP_ORIGIN): printed in QR codes, named in credentials. */
  publicUrl: string;
  assignmentPercents: AssignmentPercents;
}

export function certificateIssuer(s: IssuerSettings): CertificateIssuer {
  return {
    key: loadSigningKey({ configured: s.signingKey, dataDir: s.dataDir }),
    publicUrl: s.publicUrl.replace(/\/+$/, ''),
    assignmentPercents: s.assignmentPercents,
  };
}

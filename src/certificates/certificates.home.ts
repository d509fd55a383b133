/** What certificates add to home pages: a learner's certificates, a coordinator's way in. */
import type { HomeSectionProvider } from '../home/index.ts';
import { formatCode } from './code.ts';
import { certificatesOfLearner, issueOwed, type CertificateIssuer } from './certificates.service.ts';

export function certificatesHomeSection(issuer: CertificateIssuer): HomeSectionProvider {
  return async (em, actor) => {
    if (actor.role === 'coordinator' || actor.role === 'admin') return { partial: 'certificates/home-manage', model: {} };
    if (actor.role !== 'learner') return null;
    await issueOwed(em, issuer, actor.id);
    const held = await certificatesOfLearner(em, actor.id);
    return {
      partial: 'certificates/home',
      model: {
        count: held.length,
        latest: held.slice(0, 3).map((c) => ({ courseTitle: c.courseTitle, issuedAt: c.issuedAt, revoked: !!c.revokedAt, url: `/certificates/${formatCode(c.code)}` })),
      },
    };
  };
}

// A front end written against the client that oazapfts generates from openapi.yaml, used as it
// comes: only the client's own settings (base URL, fetch) are set. It is copied next to the
// freshly generated client and compiled with it under `tsc --strict` before it runs, so a
// contract change that makes a call untyped or unreachable fails here.
import * as api from './backpack-client.ts';

export interface World {
  baseUrl: string;
  /** What a browser adds: the session cookie it was given, and the front end's Origin. */
  fetch: typeof fetch;
  email: string;
  /** The code in the sign-in link last mailed to the address. */
  signInCode: (email: string) => string;
  /** Hosted assertions awarded to `email`. */
  hostedBadges: string[];
  /** A baked SVG awarded to `email`. */
  bakedSvg: string;
}

/** What the journey saw, for the test to check. */
export interface Journey {
  pages: { ids: string[]; total: number; link: string | null }[];
  revalidated: number;
  uploaded: api.Badge;
  group: api.GroupDetail;
  shared: api.SharedPage;
  exported: api.AccountExport;
  holderDids: api.HolderDid[];
  /** What asking for a presentation of the shared group answered (its badges are OB 2.0). */
  presentationStatus: number;
}

class UnexpectedAnswer extends Error {
  constructor(what: string, res: { status: number; data?: unknown }) {
    super(`${what}: ${res.status} ${JSON.stringify(res.data ?? null)}`);
  }
}

export async function journey(world: World): Promise<Journey> {
  api.defaults.baseUrl = world.baseUrl;
  api.defaults.fetch = world.fetch;

  // Sign in through the e-mailed link: the code arrives in the link's fragment.
  const link = await api.requestEmailLink({ email: world.email });
  if (link.status !== 202) throw new UnexpectedAnswer('requestEmailLink', link);
  const signIn = await api.redeemEmailLink({ code: world.signInCode(world.email), age: 30 });
  if (signIn.status !== 200) throw new UnexpectedAnswer('redeemEmailLink', signIn);

  const added: api.Badge[] = [];
  for (const url of world.hostedBadges) {
    const res = await api.addBadge({ url });
    if (res.status !== 201) throw new UnexpectedAnswer('addBadge', res);
    added.push(res.data);
  }
  const upload = await api.uploadBadge({
    file: new Blob([world.bakedSvg], { type: 'image/svg+xml' }),
  });
  if (upload.status !== 201) throw new UnexpectedAnswer('uploadBadge', upload);

  // Page through the backpack, then ask again for the first page with its ETag.
  const pages: Journey['pages'] = [];
  let etag: string | null = null;
  for (let offset = 0; ; ) {
    const res = await api.listBadges({ limit: 3, offset, sort: 'added' });
    if (res.status !== 200) throw new UnexpectedAnswer('listBadges', res);
    if (offset === 0) etag = res.headers.get('etag');
    pages.push({
      ids: res.data.items.map((b) => b.id),
      total: res.data.total,
      link: res.headers.get('link'),
    });
    offset += res.data.limit;
    if (offset >= res.data.total) break;
  }
  const again = await api.listBadges({ limit: 3, offset: 0, sort: 'added', ifNoneMatch: etag ?? '' });

  const created = await api.createGroup({
    name: 'Front-end group',
    description: 'Made by a generated client',
  });
  if (created.status !== 201) throw new UnexpectedAnswer('createGroup', created);
  const filled = await api.replaceGroupBadges(created.data.id, {
    badgeIds: [upload.data.id, ...added.map((b) => b.id)],
  });
  if (filled.status !== 200) throw new UnexpectedAnswer('replaceGroupBadges', filled);
  const groups = await api.listGroups();
  if (groups.status !== 200 || !groups.data.items.some((g) => g.id === created.data.id)) {
    throw new UnexpectedAnswer('listGroups', groups);
  }

  const share = await api.createShareLink({ groupId: created.data.id });
  if (share.status !== 201) throw new UnexpectedAnswer('createShareLink', share);
  const shared = await api.getSharedPageJson(share.data.token);
  if (shared.status !== 200) throw new UnexpectedAnswer('getSharedPageJson', shared);

  const made = await api.createHolderDid({ method: 'did:jwk' });
  if (made.status !== 201) throw new UnexpectedAnswer('createHolderDid', made);
  const holderDids = await api.listHolderDids();
  if (holderDids.status !== 200) throw new UnexpectedAnswer('listHolderDids', holderDids);
  const presented = await api.createPresentation({
    shareLinkId: share.data.id,
    format: 'jwt_vp',
    challenge: 'front-end-nonce',
    holderDid: made.data.did,
  });
  if (presented.status !== 422) throw new UnexpectedAnswer('createPresentation', presented);

  const exported = await api.exportAccount();
  if (exported.status !== 200) throw new UnexpectedAnswer('exportAccount', exported);

  // A generated client sends its JSON content type even with no body to send.
  const deleted = await api.deleteAccount();
  if (deleted.status !== 204) throw new UnexpectedAnswer('deleteAccount', deleted);

  return {
    pages,
    revalidated: again.status,
    uploaded: upload.data,
    group: filled.data,
    shared: shared.data,
    exported: exported.data,
    holderDids: holderDids.data.items,
    presentationStatus: presented.status,
  };
}

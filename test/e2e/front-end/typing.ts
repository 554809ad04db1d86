// Compiled with both generated clients, never run: what their types must allow and refuse.
import * as oazapfts from './backpack-client.ts';
import type { Api, Badge, BadgeSummary, SharedPage } from './sta-client.ts';

export async function typedCalls(sta: Api<unknown>): Promise<[Badge, SharedPage, oazapfts.SharedPage]> {
  // Exactly one form of a badge: an empty input does not type, with either client.
  // @ts-expect-error
  await oazapfts.addBadge({});
  // @ts-expect-error
  await sta.v1.addBadge({});
  // Nor does a share link naming neither a group nor a badge.
  // @ts-expect-error
  await oazapfts.createShareLink({});
  // @ts-expect-error
  await sta.v1.createShareLink({});

  const added = await sta.v1.addBadge({ jws: 'header.payload.signature' });
  await sta.v1.uploadBadge({ file: new File(['<svg/>'], 'badge.svg', { type: 'image/svg+xml' }) });
  const page = await sta.v1.getSharedPageJson('token-of-a-share-link');
  const listed = await sta.v1.listBadges({ limit: 10, offset: 10 });
  const first: BadgeSummary | undefined = listed.data.items[0];
  const exported = await sta.v1.exportAccount();
  const sections: number = exported.data.sections.badges.length;

  const json = await oazapfts.getSharedPageJson('token-of-a-share-link');
  if (json.status !== 200) throw new Error(String(sections + (first ? 1 : 0)));
  return [added.data, page.data, json.data];
}

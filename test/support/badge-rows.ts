// Backpack items written straight into the database, for tests of modules that show badges
// (groups, sharing) without going through ingestion: realistic rows, with an image and each
// status a stored badge can have.
import { createHash, randomUUID } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { PNG_SIGNATURE, pngChunk } from '../../src/modules/openbadges/index.ts';

/** A small opaque PNG of one colour; `text` adds an iTXt chunk (what baking does). */
export function solidPng(
  rgb: [number, number, number],
  size = 8,
  text?: { keyword: string; text: string },
): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: size }, () => rgb).flat())]);
  const raw = Buffer.concat(Array.from({ length: size }, () => row));
  const parts = [PNG_SIGNATURE, pngChunk('IHDR', ihdr)];
  if (text) {
    parts.push(
      pngChunk(
        'iTXt',
        Buffer.concat([Buffer.from(`${text.keyword}\0\0\0\0\0`, 'latin1'), Buffer.from(text.text)]),
      ),
    );
  }
  parts.push(pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

export interface BadgeRowOptions {
  name?: string;
  description?: string;
  issuerId?: string;
  issuerName?: string;
  badgeClassId?: string | null;
  status?: 'valid' | 'expired' | 'revoked' | 'invalid';
  acceptance?: 'accepted' | 'pending';
  issuedOn?: Date;
  expiresAt?: Date | null;
  /** The address the badge was awarded to; the assertion names it hashed unless `plainRecipient`. */
  recipient: string;
  plainRecipient?: boolean;
  /** Bake the assertion into the stored PNG, as an uploaded baked badge would be. */
  bakedImage?: boolean;
  image?: { contentType: string; bytes: Buffer } | null;
}

/** Inserts one backpack item (and its image) for the earner; returns its id. */
export async function insertBadge(
  app: FastifyInstance,
  earnerId: string,
  o: BadgeRowOptions,
): Promise<string> {
  const id = randomUUID();
  const name = o.name ?? 'HTML basics';
  const issuerId = o.issuerId ?? 'https://academy.example/issuer';
  const issuerName = o.issuerName ?? 'Example Academy';
  const issuedOn = o.issuedOn ?? new Date('2026-03-15T10:00:00Z');
  const assertionId = `https://academy.example/assertions/${randomUUID()}`;
  const salt = 'deadbeef';
  const assertion = {
    '@context': 'https://w3id.org/openbadges/v2',
    type: 'Assertion',
    id: assertionId,
    recipient: o.plainRecipient
      ? { type: 'email', hashed: false, identity: o.recipient }
      : {
          type: 'email',
          hashed: true,
          salt,
          identity: `sha256$${createHash('sha256')
            .update(o.recipient + salt)
            .digest('hex')}`,
        },
    badge: o.badgeClassId ?? 'https://academy.example/badges/html',
    issuedOn: issuedOn.toISOString(),
    verification: { type: 'hosted' },
  };
  const originalText = JSON.stringify(assertion);
  const image =
    o.image === undefined
      ? {
          contentType: 'image/png',
          bytes: solidPng(
            [30, 120, 200],
            8,
            o.bakedImage ? { keyword: 'openbadges', text: originalText } : undefined,
          ),
        }
      : o.image;
  await app.db.prisma.backpackItem.create({
    data: {
      id,
      earnerId,
      assertionId,
      specVersion: '2.0',
      status: o.status ?? 'valid',
      acceptance: o.acceptance ?? 'accepted',
      name,
      description: o.description ?? `Awarded for completing ${name}.`,
      issuerId,
      issuerName,
      issuerUrl: 'https://academy.example/',
      badgeClassId: o.badgeClassId === undefined ? 'https://academy.example/badges/html' : o.badgeClassId,
      criteriaUrl: 'https://academy.example/badges/html/criteria',
      issuedOn,
      expiresAt: o.expiresAt ?? null,
      recipientAddress: o.recipient,
      originalFormat: 'json',
      originalText,
      normalizedJson: JSON.stringify({
        name,
        description: o.description ?? `Awarded for completing ${name}.`,
        imageUrl: null,
        criteriaUrl: 'https://academy.example/badges/html/criteria',
        criteriaNarrative: null,
        issuer: {
          id: issuerId,
          name: issuerName,
          url: 'https://academy.example/',
          email: null,
          imageUrl: null,
        },
        badgeClassId: o.badgeClassId === undefined ? 'https://academy.example/badges/html' : o.badgeClassId,
        issuedOn: issuedOn.toISOString(),
        expires: o.expiresAt?.toISOString() ?? null,
        evidence: [],
        narrative: null,
        tags: [],
        alignments: [],
      }),
      checksJson: '[]',
      verifiedAt: new Date(),
      searchText: `${name} ${issuerName}`.toLowerCase(),
      sortName: name.toLowerCase(),
      imageType: image?.contentType ?? null,
      ...(image
        ? {
            image: {
              create: {
                contentType: image.contentType,
                bytes: new Uint8Array(image.bytes),
                sha256: createHash('sha256').update(image.bytes).digest('hex'),
              },
            },
          }
        : {}),
    },
  });
  return id;
}

// Handlers typed from the contract: for each operationId of openapi.yaml, the body, path and
// query parameters a handler reads and the answer it gives are the types openapi-typescript
// generates from the same document (src/generated/api.ts). A handler that reads a field its
// operation does not have, or answers with a shape its operation does not document, does not
// compile. At run time ajv, compiled from the same document, stays the judge of every request.
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { operations } from '../generated/api.ts';

export type OperationId = keyof operations;

/**
 * Query parameters that the contract gives a `default`: ajv fills them in before the handler
 * runs, so there they are always present although clients may leave them out. A unit test
 * holds this list to the contract's defaults.
 */
export const QUERY_DEFAULTS = {
  listGroups: ['limit', 'offset'],
  listShareLinks: ['limit', 'offset'],
  getOembed: ['format'],
  listBadges: ['sort', 'limit', 'offset'],
  listBadgeConnectAssertions: ['limit', 'offset'],
  listOb3Credentials: ['limit', 'offset'],
  listSessions: ['limit', 'offset'],
  listAccessTokens: ['limit', 'offset'],
  listConnectedIssuers: ['limit', 'offset'],
  listOperatorReports: ['limit', 'offset'],
  listOperatorPlatforms: ['limit', 'offset'],
  listOperatorActions: ['limit', 'offset'],
  listNotices: ['limit', 'offset'],
  listPushedBadges: ['limit', 'offset'],
} as const satisfies { [Op in OperationId]?: readonly (keyof QueryParameters<Op>)[] };

type Defaulted<Op> = Op extends keyof typeof QUERY_DEFAULTS ? (typeof QUERY_DEFAULTS)[Op][number] : never;

type OperationParameters<Op extends OperationId> = operations[Op]['parameters'];
type QueryParameters<Op extends OperationId> = NonNullable<OperationParameters<Op>['query']>;
type PathParameters<Op extends OperationId> = NonNullable<OperationParameters<Op>['path']>;

/** One object type instead of an intersection, for readable messages. */
type Flatten<T> = { [Key in keyof T]: T[Key] };

/** No fields at all: reading any is an error. */
type Nothing = Record<never, never>;

/**
 * What the serializer writes as T: a Date where T has a string (fast-json-stringify writes it
 * as its ISO 8601 date-time), everything else as T itself.
 */
export type Serializable<T> = T extends string
  ? string extends T
    ? T | Date
    : T
  : T extends object
    ? { [Key in keyof T]: Serializable<T[Key]> }
    : T;

/** T with the fields K, date-time strings in the contract, held as Dates until serialized. */
export type WithDates<T, K extends keyof T> = Omit<T, K> & { [Field in K]: Date | Exclude<T[Field], string> };

/** A JSON answer goes through the serializer; any other media type is sent as it is. */
type ReplyMedia<Media, Body> = Media extends `${string}json` ? Serializable<Body> : string | Uint8Array;

/**
 * Bodies reach handlers parsed: JSON and forms as objects; multipart parts as Buffers (the
 * contract's `format: binary` strings); plain text as a string.
 */
type RequestMedia<Media, Body> = Media extends 'multipart/form-data'
  ? { [Key in keyof Body]: Body[Key] extends string ? Buffer : Body[Key] }
  : Media extends `text/${string}`
    ? string
    : Body;

type Contents<Part> = Part extends { content: infer Content } ? Content : never;

type RequestBody<Op extends OperationId> = NonNullable<operations[Op]['requestBody']>;

type RequestBodies<Body> = { [Media in keyof Contents<Body>]: RequestMedia<Media, Contents<Body>[Media]> };

/** The request body as the operation documents it, over all its media types. */
export type BodyOf<Op extends OperationId> = [RequestBody<Op>] extends [never]
  ? undefined
  :
      | RequestBodies<RequestBody<Op>>[keyof Contents<RequestBody<Op>>]
      | (undefined extends operations[Op]['requestBody'] ? undefined : never);

/** The query string after validation: documented parameters, defaults filled in. */
export type QueryOf<Op extends OperationId> = [QueryParameters<Op>] extends [never]
  ? Nothing
  : Flatten<
      Omit<QueryParameters<Op>, Defaulted<Op>> & {
        [Name in Defaulted<Op> & keyof QueryParameters<Op>]-?: Exclude<QueryParameters<Op>[Name], undefined>;
      }
    >;

/** The path parameters, coerced to their documented types. */
export type ParamsOf<Op extends OperationId> = [PathParameters<Op>] extends [never]
  ? Nothing
  : PathParameters<Op>;

type Responses<Op extends OperationId> = operations[Op]['responses'];
/** Answers that are no error: 2xx, and 304 (no body) where the operation revalidates. */
type SuccessStatus<Op extends OperationId> = Extract<
  keyof Responses<Op>,
  200 | 201 | 202 | 203 | 204 | 206 | 304
>;

type ResponseBody<Response> = [Contents<Response>] extends [never]
  ? undefined
  : {
      [Media in keyof Contents<Response>]: ReplyMedia<Media, Contents<Response>[Media]>;
    }[keyof Contents<Response>];

/** What the operation answers on success, over those statuses and their media types. */
export type ReplyOf<Op extends OperationId> = {
  [Status in SuccessStatus<Op>]: ResponseBody<Responses<Op>[Status]>;
}[SuccessStatus<Op>];

export interface OperationRoute<Op extends OperationId> {
  Body: BodyOf<Op>;
  Querystring: QueryOf<Op>;
  Params: ParamsOf<Op>;
  Reply: ReplyOf<Op>;
}

export type OperationRequest<Op extends OperationId> = FastifyRequest<OperationRoute<Op>>;
export type OperationReply<Op extends OperationId> = FastifyReply<OperationRoute<Op>>;

/**
 * A handler answers with its operation's success body, or sends the answer itself through the
 * reply (whose `send` takes that body too) and returns the reply. An operation whose only
 * success has no body (204) must send it.
 */
export type Handler<Op extends OperationId> = (
  request: OperationRequest<Op>,
  reply: OperationReply<Op>,
) => Promise<Exclude<ReplyOf<Op>, undefined> | FastifyReply>;

/** What a module provides for one operation: a handler, or route options with a handler. */
export type OperationHandler<Op extends OperationId> =
  | Handler<Op>
  | (RouteShorthandOptions & { handler: Handler<Op> });

/** Handlers by operationId; a key that names no operation of the contract does not compile. */
export type OperationHandlers = { [Op in OperationId]?: OperationHandler<Op> };

/**
 * Sends an answer that is already text: a cached rendering made by the operation's own
 * serializer, or a document served as written. It is not checked against the operation here.
 */
export function sendSerialized(reply: FastifyReply, contentType: string, text: string): FastifyReply {
  return reply.type(contentType).send(text);
}

/**
 * Sends an answer written as it is produced (chunked, no Content-Length), such as an export
 * read from the database page by page. The stream must write what the operation documents.
 */
export function sendStreamed(reply: FastifyReply, contentType: string, stream: Readable): FastifyReply {
  return reply.type(contentType).send(stream);
}

import {
  Code,
  ConnectError,
  createContextKey,
  createContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import type {
  UniversalHandler,
  UniversalServerRequest,
  UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import {
  type ByteStreamRequest,
  checkRequestMessage,
  refusedRequest,
} from "./check-request-message.js";
import { rpcCompressions } from "./rpc-options.js";
import { rpcWireOf } from "./rpc-wire.js";
import type { StreamingCalls } from "./streaming-calls.js";

export interface CheckedHandlerOptions {
  /** Largest request message accepted, before and after decompression, in bytes. */
  readMaxBytes: number;
  /** The bound on streaming calls, shared by every handler of one server. */
  streamingCalls: StreamingCalls;
}

/**
 * Closes the connection or stream a call came in on: what a streaming call still open after its
 * maximum age and grace gets. Whoever hands the request to Connect sets it.
 */
export const cutCallKey = createContextKey<() => void>(() => {}, {
  description: "closes the call's connection or stream",
});

/** Why the call was refused before Connect read it, when it was; see {@link checkedHandler}. */
const refusalKey = createContextKey<ConnectError | undefined>(undefined, {
  description: "why the call was refused before its message was read",
});

/**
 * Fails a call that {@link checkedHandler} refused, before any other interceptor runs: put it
 * first (after {@link reportInternalErrors}) in the router's interceptors.
 */
export const rejectRefused: Interceptor = (next) => (request) => {
  const refusal = request.contextValues.get(refusalKey);
  if (refusal !== undefined) throw refusal;
  return next(request);
};

/**
 * Reports what an implementation or interceptor threw that is no ConnectError (a bug), which
 * Connect would turn into a bare `internal error` without telling anyone.
 */
export function reportInternalErrors(onInternalError: (error: unknown) => void): Interceptor {
  return (next) => async (request) => {
    try {
      return await next(request);
    } catch (error) {
      if (error instanceof ConnectError) throw error;
      onInternalError(error);
      throw new ConnectError("internal error", Code.Internal);
    }
  };
}

/**
 * Connect's handler of one RPC, with this service's protocol rules in front: each request
 * message is judged first by the rules the GetToken fast path shares (`checkRequestMessage`:
 * encoding and timeout headers, one envelope, the size before and after decompression, strict
 * JSON), streaming calls are bounded in number and age, and a 405 names what is allowed. A
 * refused call is answered by Connect's handler itself, in the request's protocol (through
 * {@link rejectRefused}), so that it cannot be told from any other error. The same wrapper
 * serves the standalone server and a host's connect-express or connect-fastify adapter.
 */
export function checkedHandler(
  handler: UniversalHandler,
  { readMaxBytes, streamingCalls }: CheckedHandlerOptions,
): UniversalHandler {
  const { methodKind } = handler.method;

  async function serve(request: UniversalServerRequest): Promise<UniversalServerResponse> {
    const wire =
      request.method === "POST" ? rpcWireOf(request.header.get("content-type")) : undefined;
    // Connect answers what is no protocol's POST itself (405, 415). Client and bidi streams
    // (none are served here) carry many messages: Connect bounds each one.
    if (
      wire === undefined ||
      methodKind === "client_streaming" ||
      methodKind === "bidi_streaming"
    ) {
      return handler(request);
    }
    let admitted = byteStream(request);
    if (methodKind === "server_streaming") {
      const cut = request.contextValues?.get(cutCallKey) ?? (() => {});
      const admission = streamingCalls.admit(request.signal, cut);
      if (admission.kind === "refused") {
        return refuse(refusedRequest(admitted, wire), admission.error);
      }
      admitted = { ...admitted, signal: admission.signal };
    }
    const check = await checkRequestMessage(admitted, wire, {
      input: handler.method.input,
      maxBytes: readMaxBytes,
      compressions: rpcCompressions,
    });
    if (check.kind === "ok") return handler(check.request);
    return refuse(check.request, check.error);
  }

  /** Has Connect's handler answer `error` in the request's protocol (see {@link rejectRefused}). */
  function refuse(request: ByteStreamRequest, error: ConnectError) {
    const values = request.contextValues ?? createContextValues();
    return handler({ ...request, contextValues: values.set(refusalKey, error) });
  }

  return Object.assign(async (request: UniversalServerRequest) => withAllow(await serve(request)), {
    protocolNames: handler.protocolNames,
    service: handler.service,
    method: handler.method,
    requestPath: handler.requestPath,
    allowedMethods: handler.allowedMethods,
    supportedContentType: handler.supportedContentType,
  });

  /** RFC 9110: a 405 names the methods the resource allows. connect-node sends none. */
  function withAllow(response: UniversalServerResponse): UniversalServerResponse {
    if (response.status !== 405) return response;
    const header = new Headers(response.header);
    header.set("Allow", handler.allowedMethods.join(", "));
    return { ...response, header };
  }
}

/**
 * The request with its body as bytes. A host's JSON body parser (Express's `express.json()`
 * mounted before the RPC routes) hands Connect the parsed value instead: it is judged as the
 * JSON it stands for, by every rule but the one about repeated keys, which parsing has erased.
 * A raw body parser leaves a Buffer, judged as it is.
 */
function byteStream(request: UniversalServerRequest): ByteStreamRequest {
  const { body } = request;
  if (typeof body === "object" && body !== null && Symbol.asyncIterator in body) {
    return request as ByteStreamRequest;
  }
  // `express.raw()` leaves the bytes themselves.
  const bytes = body instanceof Uint8Array ? body : new TextEncoder().encode(JSON.stringify(body));
  const header = new Headers(request.header);
  header.set("content-length", String(bytes.byteLength));
  return {
    ...request,
    header,
    body: (async function* () {
      yield bytes;
    })(),
  };
}

// The Hummingbird shell of the CalDAV server: every request, whatever its method, goes to the pure
// `CalDAVServer` (no router: WebDAV's URL space is the server's own), on NIO's thread pool so
// that a slow request (a big REPORT, an fsync) holds up no event loop and no other request.
import CalDAV
import Glibc
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import NIOPosix
import TLS
import TLSNIO

public struct CalDAVResponder: HTTPResponder {
    public typealias Context = BasicRequestContext
    let server: CalDAVServer
    let maximumBody: Int
    let readsWithoutIO: Bool

    /// `readsWithoutIO`: the store answers reads from memory (memory and git stores), so a GET or
    /// HEAD is answered where it arrived instead of paying for a hop to the thread pool.
    public init(server: CalDAVServer, maximumBody: Int = 4 << 20, readsWithoutIO: Bool = false) {
        self.server = server
        self.maximumBody = maximumBody
        self.readsWithoutIO = readsWithoutIO
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maximumBody)
        } catch {
            return Response(status: .contentTooLarge, headers: [.contentType: "text/plain"])
        }
        let davRequest = DAVRequest(
            method: request.method.rawValue, target: request.head.path ?? "/",
            headers: request.headers.map { (name: $0.name.rawName, value: $0.value) },
            body: Array(buffer: body))
        let server = self.server
        let now = Int64(time(nil))
        let answer: DAVResponse
        if readsWithoutIO && (request.method == .get || request.method == .head) {
            answer = server.respond(to: davRequest, now: now)
        } else {
            answer = try await NIOThreadPool.singleton.runIfActive { server.respond(to: davRequest, now: now) }
        }
        var fields = HTTPFields()
        for header in answer.headers {
            guard let name = HTTPField.Name(header.name) else { continue }
            fields.append(HTTPField(name: name, value: header.value))
        }
        if request.method == .head {
            return Response(status: HTTPResponse.Status(code: answer.status), headers: fields)
        }
        fields[.contentLength] = "\(answer.body.count)"
        return Response(
            status: HTTPResponse.Status(code: answer.status), headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}

/// HTTP/1.1 under Quercus TLS: the engine's `TLSHandler` first in each accepted channel's
/// pipeline, then Hummingbird's HTTP/1 handlers.
public struct QuercusTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value
    let base: Base
    let configuration: TLSConfiguration

    public init(_ base: Base, configuration: TLSConfiguration) {
        self.base = base
        self.configuration = configuration
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let configuration = self.configuration
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(
                TLSHandler(server: configuration, handshakeTimeout: .seconds(10)))
        }.flatMap { base.setup(channel: channel, logger: logger) }
    }

    public func handle(value: Base.Value, logger: Logger) async { await base.handle(value: value, logger: logger) }
}

extension QuercusTLSChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    public var responder: HTTPChannelHandler.Responder { base.responder }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 as CalDAV clients speak it (with `Expect: 100-continue`).
    public static var calDAV: HTTPServerBuilder {
        HTTPServerBuilder { responder in HTTP1Channel(responder: responder, configuration: .calDAV) }
    }

    /// HTTP/1.1 over Quercus TLS.
    public static func calDAV(tls configuration: TLSConfiguration) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            QuercusTLSChannel(HTTP1Channel(responder: responder, configuration: .calDAV), configuration: configuration)
        }
    }
}

extension HTTP1Channel.Configuration {
    static var calDAV: Self { Self(additionalChannelHandlers: [ExpectContinueHandler()]) }
}

/// Answers `Expect: 100-continue` with the interim response the client waits for before sending
/// its body (RFC 9110 §10.1.1); Hummingbird does not, and some WebDAV clients wait seconds for it.
final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data),
            head.headerFields[.expect]?.lowercased() == "100-continue"
        {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(data)
    }
}

import NIOCore
import NIOHTTP1
import NIOPosix

/// One generated response: what a status page, a metrics scrape or a download needs.
public struct Page: Sendable {
    public var status: HTTPResponseStatus
    public var contentType: String
    public var body: String

    public init(status: HTTPResponseStatus = .ok, contentType: String, body: String) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public static func notFound(_ hint: String) -> Page {
        Page(status: .notFound, contentType: "text/plain; charset=utf-8", body: hint)
    }
}

/// A minimal HTTP/1.1 server for pages computed on each request (`GET` and `HEAD` only): the
/// metrics of every service and the Piñata's pages. `secure`, when given, adds the handlers that
/// go below HTTP (TLS) to each accepted channel.
public enum PageEndpoint {
    public static func bind(
        _ address: SocketAddress, group: any EventLoopGroup,
        secure: (@Sendable (any Channel) throws -> Void)? = nil,
        route: @escaping @Sendable (_ path: String) -> Page
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try secure?(channel)
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(PageHandler(route: route))
                }
            }
            .bind(to: address)
            .get()
    }
}

private final class PageHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let route: @Sendable (String) -> Page
    private var request: HTTPRequestHead?

    init(route: @escaping @Sendable (String) -> Page) {
        self.route = route
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let head = request else { return }
            request = nil
            let page: Page
            if head.method == .GET || head.method == .HEAD {
                page = route(String(head.uri.prefix { $0 != "?" }))
            } else {
                page = Page(status: .methodNotAllowed, contentType: "text/plain", body: "only GET and HEAD\n")
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: page.contentType)
            headers.add(name: "Content-Length", value: "\(page.body.utf8.count)")
            headers.add(name: "Cache-Control", value: "no-store")
            if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: page.status, headers: headers))),
                promise: nil)
            if head.method != .HEAD {
                context.write(
                    wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: page.body)))),
                    promise: nil)
            }
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !head.isKeepAlive {
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                done.whenComplete { _ in loopBound.value.close(promise: nil) }
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

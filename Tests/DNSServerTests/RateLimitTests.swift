import DNS
import DNSServer
import Testing

@Suite struct RateLimitTests {
    func response(_ name: String, rcode: ResponseCode = .noError) throws -> [UInt8] {
        var message = Message(id: 1, questions: [Question(name: try DomainName(name), type: .a)])
        message.isResponse = true
        message.rcode = rcode
        message.answers = [
            ResourceRecord(
                name: try DomainName(name), ttl: 60, data: .a(ARecord(address: try #require(IPv4Address("192.0.2.1")))))
        ]
        return try message.encode()
    }

    @Test func identicalResponsesAreCappedPerSecondWithSlips() throws {
        var limiter = ResponseRateLimiter(responsesPerSecond: 3, slip: 2)
        let reply = try response("www.example.com.")
        let decisions = (0..<9).map { _ in limiter.decide(response: reply, client: [192, 0, 2, 1], now: 100) }
        #expect(decisions == [.send, .send, .send, .drop, .slip, .drop, .slip, .drop, .slip])
        // The same /24 shares the budget; the name's case does not matter.
        #expect(limiter.decide(response: try response("WWW.example.com."), client: [192, 0, 2, 77], now: 100) == .drop)
        // Another network and another name have their own budgets; the next second starts afresh.
        #expect(limiter.decide(response: reply, client: [198, 51, 100, 1], now: 100) == .send)
        #expect(limiter.decide(response: try response("web.example.com."), client: [192, 0, 2, 1], now: 100) == .send)
        #expect(limiter.decide(response: reply, client: [192, 0, 2, 1], now: 101) == .send)
    }

    @Test func nxdomainForRandomNamesSharesOneBudget() throws {
        var limiter = ResponseRateLimiter(responsesPerSecond: 2, slip: 0)
        let decisions = try (0..<4).map { index in
            limiter.decide(
                response: try response("random\(index).example.com.", rcode: .nameError), client: [192, 0, 2, 1], now: 5
            )
        }
        #expect(decisions == [.send, .send, .drop, .drop])
    }

    @Test func aSlipIsTheHeaderAndQuestionWithTC() throws {
        let reply = try response("www.example.com.")
        let slip = try #require(ResponseRateLimiter.truncated(reply))
        let message = try Message.decode(slip)
        #expect(message.truncated && message.answers.isEmpty && message.id == 1)
        #expect(message.questions.first?.name == (try DomainName("www.example.com.")))
        #expect(ResponseRateLimiter.truncated([1, 2]) == nil)
    }

    @Test func manySourcesDoNotGrowItBeyondItsCapacity() throws {
        var limiter = ResponseRateLimiter(responsesPerSecond: 1, slip: 0, capacity: 10)
        let reply = try response("www.example.com.")
        for index in 0..<1000 {
            _ = limiter.decide(response: reply, client: [10, UInt8(index / 256), UInt8(index % 256), 1], now: 1)
        }
        // The first network was forgotten, so it starts a new budget.
        #expect(limiter.decide(response: reply, client: [10, 0, 0, 1], now: 1) == .send)
    }
}

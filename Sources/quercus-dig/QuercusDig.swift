import DNS
import DNSClient
import DNSClientNIO
import DNSSecurity
import Foundation
import QuercusCLI

/// `quercus-dig`: dig's command line and output, and `quercus-dig update` for nsupdate's
/// commands. Arguments are parsed by `DigCommand.parse` (dig's syntax is not ArgumentParser's);
/// everything else is the DNSClient library.
///
/// Exit codes (dig's and nsupdate's where scripts rely on them): 0 answered, 1 failure (a failed
/// transfer, a bad update script, an unreadable file), 2 an update the server did not apply,
/// 9 no server could be reached, 64 bad usage.
@main
enum QuercusDig {
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let command: DigCommand
        do {
            command = try DigCommand.parse(arguments)
        } catch {
            standardError("quercus-dig: \(error)\n\(DigCommand.usage)\n")
            exit(64)
        }
        switch command {
        case .help:
            print(DigCommand.usage)
        case .version:
            print(QuercusVersion.string)
        case .query(let request):
            exit(await runQuery(request, arguments: arguments))
        case .update(let invocation):
            exit(await runUpdate(invocation))
        }
    }

    static func runQuery(_ request: DigRequest, arguments: [String]) async -> Int32 {
        let resolver: StubResolver
        do {
            resolver = try StubResolver.system()
        } catch {
            standardError("quercus-dig: /etc/resolv.conf: \(error)\n")
            return 1
        }
        let servers: [ServerAddress]
        if let server = request.server {
            servers = [ServerAddress(host: server, port: request.port)]
        } else {
            servers = resolver.configuration.nameservers.map { ServerAddress(host: $0, port: request.port) }
        }
        let name: DomainName
        do {
            let absolute = request.name.hasSuffix(".") ? request.name : request.name + "."
            let searched = request.search ? try resolver.configuration.candidateNames(for: request.name).first : nil
            name = try searched ?? DomainName(absolute)
        } catch {
            standardError("quercus-dig: \"\(request.name)\" is not a domain name: \(error)\n")
            return 64
        }
        let options = QueryOptions(
            recursionDesired: request.recurse && !request.isTransfer, checkingDisabled: request.checkingDisabled,
            authenticData: request.adFlag, edns: request.edns, udpPayloadSize: request.udpPayloadSize,
            dnssecOK: request.dnssec, sendsCookie: request.cookie, key: request.key)
        let banner = DigFormatter.banner(version: QuercusVersion.release, arguments: arguments, servers: servers.count)
        if request.type == .axfr { return await runTransfer(request, zone: name, options, servers, resolver, banner) }

        let started = DispatchTime.now()
        let answer: StubResolver.Answer
        do {
            answer = try await resolver.query(
                Question(name: name, type: request.type, recordClass: request.recordClass),
                options: options, servers: servers, forceTCP: request.usesTCP,
                timeout: request.timeout, tries: request.tries ?? (request.usesTCP ? 1 : 3)
            ) { server, error in
                print(";; communications error to \(server): \(error)")
            }
        } catch {
            if !request.short { print(banner, terminator: "") }
            print(";; no servers could be reached")
            return 9
        }
        let milliseconds = Int((DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000)
        if request.short {
            print(DigFormatter.short(answer.response.message), terminator: "")
        } else {
            let exchange = DigExchange(
                response: answer.response, server: answer.server, transport: answer.transport,
                milliseconds: milliseconds, when: Int64(Date().timeIntervalSince1970),
                clientCookie: answer.clientCookie)
            print(banner + DigFormatter.answer(exchange), terminator: "")
        }
        if case .failed = answer.response.signature { return 1 }
        return 0
    }

    static func runTransfer(
        _ request: DigRequest, zone: DomainName, _ options: QueryOptions, _ servers: [ServerAddress],
        _ resolver: StubResolver, _ banner: String
    ) async -> Int32 {
        print(banner, terminator: "")
        guard let server = servers.first else {
            print(";; no servers could be reached")
            return 9
        }
        let started = DispatchTime.now()
        let short = request.short
        do {
            let reader = try await resolver.transfer(
                zone: zone, options: options, server: server, timeout: request.timeout
            ) { message in
                if short {
                    print(DigFormatter.short(message), terminator: "")
                } else {
                    print(DigFormatter.transferMessage(message), terminator: "")
                }
            }
            let milliseconds = Int((DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000)
            let exchange = DigExchange(
                response: ClientResponse(message: Message(), size: reader.bytes), server: server, transport: .tcp,
                milliseconds: milliseconds, when: Int64(Date().timeIntervalSince1970))
            if !short {
                print(
                    DigFormatter.transferSummary(
                        exchange, records: reader.records, messages: reader.messages, bytes: reader.bytes),
                    terminator: "")
            }
            return 0
        } catch let error as ExchangeError {
            print(";; communications error to \(server): \(error)")
            return 9
        } catch let failure as TransferFailure {
            if case .signature = failure { print(";; \(failure)") }
            print("; Transfer failed.")
            return 1
        } catch {
            print(";; \(error)\n; Transfer failed.")
            return 1
        }
    }

    static func runUpdate(_ invocation: UpdateInvocation) async -> Int32 {
        let text: String
        if let file = invocation.file {
            guard let contents = try? String(contentsOfFile: file, encoding: .utf8) else {
                standardError("quercus-dig update: cannot read \(file)\n")
                return 1
            }
            text = contents
        } else {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        let batches: [UpdateBatch]
        do {
            batches = try UpdateScriptParser(defaultPort: invocation.port, defaultKey: invocation.key).parse(text)
        } catch {
            standardError("quercus-dig update: \(invocation.file ?? "stdin"):\(error)\n")
            return 1
        }
        let resolver: StubResolver
        do {
            resolver = try StubResolver.system()
        } catch {
            standardError("quercus-dig update: /etc/resolv.conf: \(error)\n")
            return 1
        }
        for batch in batches {
            let status = await send(batch, resolver: resolver, port: invocation.port)
            if status != 0 { return status }
        }
        return 0
    }

    /// Sends one batch, finding its zone with an SOA query first when the script named none.
    static func send(_ batch: UpdateBatch, resolver: StubResolver, port: Int) async -> Int32 {
        let server =
            batch.server ?? resolver.configuration.nameservers.first.map { ServerAddress(host: $0, port: port) }
        guard let server else {
            standardError("; no server to send the update to\n")
            return 1
        }
        do {
            var zone = batch.zone
            if zone == nil, let name = batch.firstName {
                let answer = try await resolver.query(
                    Question(name: name, type: .soa), options: QueryOptions(key: batch.key), servers: [server])
                zone = UpdateBatch.zone(fromSOAResponse: answer.response.message)
            }
            guard let zone else {
                standardError("; could not find the zone of the update (give a zone command)\n")
                return 1
            }
            let query = try ClientQuery(
                message: batch.message(id: UInt16.random(in: 0...UInt16.max), zone: zone),
                options: QueryOptions(key: batch.key), server: server, now: UInt64(Date().timeIntervalSince1970))
            let response = try await resolver.send(query)
            if batch.showAnswer {
                print("Answer:\n" + DigFormatter.message(response.message), terminator: "")
            }
            // A TSIG error travels in the response's TSIG record (BADSIG, BADKEY, BADTIME); nsupdate
            // prints it after the status, as NOTAUTH(BADSIG).
            var tsigError = ""
            if case .tsig(let record) = response.message.tsig?.data, record.error != 0 {
                tsigError = "(\(ResponseCode(rawValue: record.error)))"
                standardError("; TSIG error with server: tsig indicates error\n")
            } else if case .failed(let error) = response.signature {
                standardError("; TSIG error with server: \(DigFormatter.signatureText(error))\n")
            }
            guard response.message.rcode == .noError else {
                standardError("update failed: \(response.message.rcode)\(tsigError)\n")
                return 2
            }
            if case .failed = response.signature { return 2 }
            return 0
        } catch let error as ExchangeError {
            standardError("; Communication with \(server) failed: \(error)\n")
            return 9
        } catch {
            standardError("; Communication with \(server) failed: \(error)\n")
            return 9
        }
    }

    static func standardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

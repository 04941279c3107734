/// Left-aligned plain-text columns, as `quercus up` prints its services.
public func renderTable(header: [String], rows: [[String]]) -> String {
    let columns = header.count
    var widths = header.map(\.count)
    for row in rows {
        for (index, cell) in row.prefix(columns).enumerated() {
            widths[index] = max(widths[index], cell.count)
        }
    }
    func line(_ cells: [String]) -> String {
        var text = ""
        for index in 0..<columns {
            let cell = index < cells.count ? cells[index] : ""
            let isLast = index == columns - 1
            text += isLast ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 2)
        }
        return text
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n")
}

extension Duration {
    /// The duration in seconds, for reports and comparisons with a tolerance.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

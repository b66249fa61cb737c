package uplink

// BrokerOrder is brokerOrder, for the cluster tests.
var BrokerOrder = brokerOrder

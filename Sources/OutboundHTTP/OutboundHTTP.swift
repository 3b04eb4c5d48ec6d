// OutboundHTTP module

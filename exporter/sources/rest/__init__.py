"""The REST source: airlift's ``/v1/jmx/mbean`` over HTTP(S)."""

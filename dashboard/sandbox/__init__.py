"""The sandbox: an emulator of the console's three AWS APIs, answering at botocore's HTTP layer.

`wire` turns HTTP requests into operation calls and operation results into AWS's wire format,
driven by botocore's own service models; `ops` holds the emulated operations; `transport`
attaches the emulator to boto3 clients (`before-send`); `server` serves it over real HTTP.
"""

// Package openapi is the door of the vendor's RPC OpenAPI at "/" of the HTTP
// listener: the protocol only. It reads a call's parameters (query ∪ form
// body), tells the product apart by Version, verifies the signature against
// an access-key table, calls the product's action and writes the answer in
// the platform's envelope. The products themselves (openapi/iot, and later
// the Kafka control plane) register their actions with Server.Register.
//
// Two signatures are accepted, as the vendor's two generations of Go SDKs
// send them:
//
//   - Signature 1.0 (github.com/aliyun/alibaba-cloud-sdk-go): Action,
//     Version, AccessKeyId, Timestamp, SignatureNonce, SignatureMethod
//     HMAC-SHA1, SignatureVersion 1.0 and Signature among the parameters;
//     Signature = base64(HMAC-SHA1(secret+"&", METHOD&%2F&enc(sorted
//     parameters))).
//   - ACS3-HMAC-SHA256 (github.com/alibabacloud-go/*, darabonba-openapi):
//     Authorization: ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,
//     Signature=…, the action and version in x-acs-action and x-acs-version,
//     x-acs-date, x-acs-signature-nonce, and x-acs-content-sha256 checked
//     against the body.
//
// Timestamps must be within 15 minutes of the server's clock, and a nonce is
// refused when used again within that window.
//
// Answers are JSON objects {"RequestId", "Success", …}; a call with
// Format=XML gets the same content as XML under <ActionResponse> (<Error>
// for a refusal with a 4xx/5xx status). Without Format the answer is JSON,
// where the platform's documented default is XML: every SDK asks for JSON.
// Refusals by the door (signature, parameters) use the common error
// envelope with a 4xx status; a product's business failures answer 200 with
// Success false, as the platform does. Every field is a JSON string or
// boolean: the old SDK panics on a numeric Code.
package openapi

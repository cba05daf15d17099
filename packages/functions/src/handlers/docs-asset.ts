// Its own file because each route is its own Lambda function, found by name; the code is the docs handler.
export { handler } from "./docs";

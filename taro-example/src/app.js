// The app: one page. (Taro renders pages inside it.)
export default function App({ children }) {
  return children;
}
